// 每个测试结束时：假服务器收发里有与服务器约定（OpenAPI 副本）不符的地方，这个测试就失败。
const { takeContractProblems } = require('../helpers/wx')

beforeEach(() => {
  takeContractProblems()
})

afterEach(() => {
  const problems = takeContractProblems()
  if (problems.length) {
    const unique = Array.from(new Set(problems))
    throw new Error(
      '测试里的请求或假服务器的应答与服务器的 API（tests/fixtures/openapi.json）不符：\n  ' +
        unique.join('\n  ') +
        '\n改小程序或测试数据，让它们与服务器一致；服务器改了 API 就先刷新副本（见 README“与服务器的约定”）。'
    )
  }
})
