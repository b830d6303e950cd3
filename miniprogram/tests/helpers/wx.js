// 测试用的 wx：每个测试一份，网络请求交给一个假服务器。
// 假服务器的每次收发都按服务器的 OpenAPI 副本（tests/fixtures/openapi.json）核对：
// 路径、查询参数、请求体、应答的样子。不符合的记下来，由 tests/setup/contract.js 让那个测试失败。
const contract = require('./openapi')

const API = 'http://127.0.0.1:8000/api/v1'
const NETWORK_FAIL = Symbol('network-fail')

// 这一个测试里发现的不符合（所有假服务器共用）
function contractProblems() {
  if (!global.__contractProblems) global.__contractProblems = []
  return global.__contractProblems
}

function takeContractProblems() {
  const list = contractProblems().slice()
  global.__contractProblems = []
  return list
}

function parseUrl(url) {
  const [base, qs] = url.split('?')
  const query = {}
  if (qs) {
    qs.split('&').forEach((pair) => {
      const [k, v] = pair.split('=')
      query[decodeURIComponent(k)] = decodeURIComponent(v || '')
    })
  }
  return { path: base.startsWith(API) ? base.slice(API.length) : base, query }
}

// 一个错误应答，形状与服务器的一样：{code, status, message, errors: {detail}}
const PHRASES = { 502: 'Bad Gateway', 504: 'Gateway Timeout', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 413: 'Request Entity Too Large', 422: 'Unprocessable Entity', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable' }

function error(status, message, detail, extra) {
  return {
    status,
    body: { code: status, status: PHRASES[status] || 'Error', message, errors: Object.assign({ detail }, extra || {}) },
  }
}

function makeServer() {
  const routes = []
  const server = {
    requests: [],
    // 与服务器约定不符的地方（也记在全局，测试结束时检查）
    problems: [],
    // handler(req) -> {status, body} | body | NETWORK_FAIL
    on(method, pattern, handler) {
      const names = []
      const re = new RegExp(
        '^' + pattern.replace(/:([a-z_]+)/g, (m, name) => {
          names.push(name)
          return '([^/]+)'
        }) + '$'
      )
      routes.unshift({ method, re, names, handler })
      return server
    },
    handle(req) {
      for (const r of routes) {
        if (r.method !== req.method) continue
        const m = r.re.exec(req.path)
        if (!m) continue
        req.params = {}
        r.names.forEach((n, i) => {
          req.params[n] = decodeURIComponent(m[i + 1])
        })
        const out = typeof r.handler === 'function' ? r.handler(req) : r.handler
        if (out === NETWORK_FAIL) return NETWORK_FAIL
        if (out && typeof out === 'object' && 'status' in out && 'body' in out) return out
        return { status: req.method === 'POST' ? 200 : 200, body: out }
      }
      return error(404, 'not_found', '内容不存在')
    },
    check(req, out) {
      const found = contract.checkRequest(req)
      const problems = found.problems.slice()
      if (out && out !== NETWORK_FAIL && found.found) problems.push(...contract.checkResponse(req, out.status, out.body))
      problems.forEach((p) => {
        server.problems.push(p)
        contractProblems().push(p)
      })
    },
    calls(method, path) {
      return server.requests.filter((r) => r.method === method && (path instanceof RegExp ? path.test(r.path) : r.path === path))
    },
  }
  return server
}

const { USER, CATEGORIES, TEMPLATES, UNIT_DETAIL, media, consent } = require('./fixtures')

function defaultRoutes(server) {
  let logins = 0
  server.on('POST', '/auth/login', (req) => {
    logins += 1
    return { status: 200, body: { token: `tok-${logins}`, expires_at: '2999-01-01T00:00:00+08:00', user: USER } }
  })
  server.on('GET', '/me', USER)
  server.on('GET', '/me/consent', consent(true))
  server.on('GET', '/config/subscriptions', { templates: TEMPLATES })
  server.on('GET', '/categories', { items: CATEGORIES })
  server.on('GET', '/tickets/nearby', { items: [], next_cursor: null })
  server.on('GET', '/units/locate', UNIT_DETAIL)
  server.on('GET', '/notifications', { items: [], next_cursor: null, unread: 0 })
  let uploads = 0
  server.on('POST', '/media', () => {
    uploads += 1
    return { status: 201, body: media(uploads, { width: 1280, height: 960 }) }
  })
}

function createWx(options = {}) {
  const server = makeServer()
  defaultRoutes(server)
  const storage = Object.assign({}, options.storage || {})
  const later = (fn) => setTimeout(fn, 0)
  const ok = (name, extra) => jest.fn((opts = {}) => {
    later(() => {
      const res = Object.assign({ errMsg: `${name}:ok` }, typeof extra === 'function' ? extra(opts) : extra)
      if (opts.success) opts.success(res)
      if (opts.complete) opts.complete(res)
    })
  })

  function transport(req, opts, parse) {
    req.header = opts.header || {}
    server.requests.push(req)
    later(() => {
      const out = server.handle(req)
      server.check(req, out)
      if (out === NETWORK_FAIL) {
        const res = { errMsg: `${parse}:fail timeout` }
        if (opts.fail) opts.fail(res)
        if (opts.complete) opts.complete(res)
        return
      }
      const body = JSON.parse(JSON.stringify(out.body === undefined ? null : out.body))
      const res = { statusCode: out.status, data: parse === 'uploadFile' ? JSON.stringify(body) : body, header: {} }
      if (opts.success) opts.success(res)
      if (opts.complete) opts.complete(res)
    })
    return { abort() {} }
  }

  const wx = {
    __server: server,
    __storage: storage,
    getAccountInfoSync: jest.fn(() => ({ miniProgram: { appId: 'wx0', envVersion: options.envVersion || 'develop', version: '' } })),
    login: ok('login', () => ({ code: 'code-' + (wx.login.mock.calls.length) })),
    request: jest.fn((opts) => {
      const { path, query } = parseUrl(opts.url)
      return transport({ method: (opts.method || 'GET').toUpperCase(), url: opts.url, path, query, data: opts.data }, opts, 'request')
    }),
    uploadFile: jest.fn((opts) => {
      const { path, query } = parseUrl(opts.url)
      return transport({ method: 'POST', url: opts.url, path, query, upload: opts.name, data: { name: opts.name, filePath: opts.filePath } }, opts, 'uploadFile')
    }),
    getStorageSync: jest.fn((k) => (k in storage ? storage[k] : '')),
    setStorageSync: jest.fn((k, v) => {
      storage[k] = JSON.parse(JSON.stringify(v))
    }),
    removeStorageSync: jest.fn((k) => {
      delete storage[k]
    }),
    clearStorageSync: jest.fn(() => {
      Object.keys(storage).forEach((k) => delete storage[k])
    }),
    // 导出数据用：剪贴板、用户目录里的文件、把文件发到聊天
    env: { USER_DATA_PATH: 'http://usr' },
    __files: {},
    getFileSystemManager: jest.fn(() => ({
      writeFileSync: jest.fn((file, data) => {
        wx.__files[file] = data
      }),
      unlinkSync: jest.fn((file) => {
        if (!(file in wx.__files)) throw new Error('unlinkSync:fail no such file')
        delete wx.__files[file]
      }),
    })),
    setClipboardData: ok('setClipboardData'),
    shareFileMessage: ok('shareFileMessage'),
    getPrivacySetting: ok('getPrivacySetting', { needAuthorization: !!options.needPrivacy, privacyContractName: '《共治小程序隐私保护指引》' }),
    openPrivacyContract: ok('openPrivacyContract'),
    onNeedPrivacyAuthorization: jest.fn(),
    getLocation: ok('getLocation', { latitude: 30.5801, longitude: 114.2734, accuracy: 20 }),
    chooseLocation: ok('chooseLocation', { name: '幸福里3号楼', address: '武汉市江岸区幸福路8号', latitude: 30.581, longitude: 114.274 }),
    chooseMedia: ok('chooseMedia', (opts) => ({
      type: 'image',
      tempFiles: Array.from({ length: Math.min(opts.count || 1, 1) }, (_, i) => ({ tempFilePath: `wxfile://tmp_${Date.now()}_${i}.jpg`, size: 1000, fileType: 'image' })),
    })),
    previewImage: ok('previewImage'),
    requestSubscribeMessage: ok('requestSubscribeMessage', (opts) => {
      const res = {}
      ;(opts.tmplIds || []).forEach((id) => {
        res[id] = 'accept'
      })
      return res
    }),
    showToast: jest.fn(),
    showLoading: jest.fn(),
    hideLoading: jest.fn(),
    showModal: ok('showModal', { confirm: true, cancel: false, content: '' }),
    navigateTo: ok('navigateTo'),
    redirectTo: ok('redirectTo'),
    navigateBack: ok('navigateBack'),
    reLaunch: ok('reLaunch'),
    stopPullDownRefresh: jest.fn(),
    enableAlertBeforeUnload: jest.fn(),
    disableAlertBeforeUnload: jest.fn(),
    makePhoneCall: ok('makePhoneCall'),
    openSetting: ok('openSetting', { authSetting: { 'scope.userLocation': true } }),
    showShareMenu: jest.fn(),
    // 版本更新：测试里调用 __update.ready() 模拟新版本已下载好
    __update: null,
    getUpdateManager: jest.fn(() => {
      const handlers = {}
      const manager = {
        onCheckForUpdate: jest.fn((fn) => (handlers.check = fn)),
        onUpdateReady: jest.fn((fn) => (handlers.ready = fn)),
        onUpdateFailed: jest.fn((fn) => (handlers.failed = fn)),
        applyUpdate: jest.fn(),
        ready: () => handlers.ready && handlers.ready(),
      }
      wx.__update = manager
      return manager
    }),
    setNavigationBarTitle: jest.fn(),
    createMapContext: jest.fn(() => ({ moveToLocation: jest.fn(), includePoints: jest.fn() })),
  }
  return wx
}

// 最后一次 showToast 的文字
function lastToast(wx) {
  const calls = wx.showToast.mock.calls
  return calls.length ? calls[calls.length - 1][0].title : ''
}

// 有照片时不写一句话的反映不带 description。服务器将改为：有照片时 description 可以不填；
// fixtures/openapi.json 刷新之前，副本仍要求 description，只认下这一条不符（别的不符照样让测试失败）；
// 刷新之后这里必须没有任何不符。
function expectOnlyDescriptionContractGap() {
  const schema = require('../fixtures/openapi.json').components.schemas.TicketCreate
  const problems = takeContractProblems()
  if ((schema.required || []).indexOf('description') >= 0) {
    expect(problems.length).toBeGreaterThan(0)
    problems.forEach((p) => expect(p).toMatch(/description/))
  } else {
    expect(problems).toEqual([])
  }
}

// 等到断言成立（异步链在繁忙的机器上可能慢于一个固定的等待），超时仍不成立就抛出最后的失败
async function eventually(check, timeoutMs = 2000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return check()
    } catch (err) {
      if (Date.now() > deadline) throw err
      await new Promise((r) => setTimeout(r, 10))
    }
  }
}

module.exports = { createWx, NETWORK_FAIL, USER, lastToast, error, takeContractProblems, expectOnlyDescriptionContractGap, eventually }
