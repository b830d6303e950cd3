// 构建检查：官方编译器 wcc / wcsc 编译全部 WXML、WXSS，另有标签、处理函数、文件齐全的检查。
// 先证明它能抓到坏的标记，再用它检查整个小程序。
const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawnSync } = require('child_process')
const { check } = require('../tools/check-markup')

const SRC = path.join(__dirname, '..', 'src')
const CLI = path.join(__dirname, '..', 'tools', 'check-markup.js')

const GOOD = {
  'app.json': JSON.stringify({ pages: ['pages/a/a'] }),
  'app.wxss': 'page { font-size: 36rpx; }\n',
  'pages/a/a.json': JSON.stringify({ usingComponents: {} }),
  'pages/a/a.js': 'Component({ methods: { onTap() {} } })\n',
  'pages/a/a.wxml': '<view class="box" bindtap="onTap">{{title}}</view>\n',
  'pages/a/a.wxss': '.box { color: #111111; padding: 24rpx; }\n',
}

const dirs = []
function project(overrides = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-check-'))
  dirs.push(dir)
  const files = Object.assign({}, GOOD, overrides)
  Object.keys(files).forEach((rel) => {
    if (files[rel] === null) return
    const full = path.join(dir, rel)
    fs.mkdirSync(path.dirname(full), { recursive: true })
    fs.writeFileSync(full, files[rel])
  })
  return dir
}

afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })))

test('a good snippet passes (the checker is not just failing everything)', () => {
  expect(check(project())).toEqual([])
})

test('an unclosed tag fails the WXML compile', () => {
  const problems = check(project({ 'pages/a/a.wxml': '<view class="box"><text>你好</view>\n' }))
  expect(problems.join('\n')).toMatch(/WXML 编译失败[\s\S]*pages\/a\/a\.wxml/)
})

test('an unterminated {{ expression fails the WXML compile', () => {
  const problems = check(project({ 'pages/a/a.wxml': '<view>{{title</view>\n' }))
  expect(problems.join('\n')).toMatch(/WXML 编译失败/)
})

test('a broken WXSS rule fails the WXSS compile', () => {
  const problems = check(project({ 'pages/a/a.wxss': '.box { color: #111111;\n' }))
  expect(problems.join('\n')).toMatch(/WXSS 编译失败[\s\S]*a\.wxss/)
})

test('a misspelt tag fails', () => {
  const problems = check(project({ 'pages/a/a.wxml': '<veiw bindtap="onTap">x</veiw>\n' }))
  expect(problems.join('\n')).toMatch(/未知标签 <veiw>/)
})

test('a handler missing from the JS fails', () => {
  const problems = check(project({ 'pages/a/a.wxml': '<view bindtap="onTapp">x</view>\n' }))
  expect(problems.join('\n')).toMatch(/onTapp/)
})

test('an import that does not resolve fails', () => {
  const problems = check(
    project({
      'pages/a/a.wxml': '<import src="../../t/missing.wxml"></import><template is="x"></template>\n',
    })
  )
  expect(problems.length).toBeGreaterThan(0)
})

test('a page listed in app.json without its files fails', () => {
  const problems = check(project({ 'app.json': JSON.stringify({ pages: ['pages/a/a', 'pages/b/b'] }) }))
  expect(problems.join('\n')).toMatch(/pages\/b\/b 缺少/)
})

test('the command line exits non-zero on broken markup and zero on good', () => {
  const bad = spawnSync(process.execPath, [CLI, project({ 'pages/a/a.wxml': '<view>\n' })])
  expect(bad.status).toBe(1)
  expect(bad.stderr.toString()).toMatch(/WXML 编译失败/)
  const good = spawnSync(process.execPath, [CLI, project()])
  expect(good.status).toBe(0)
})

test('every WXML and WXSS file of the mini-program compiles and checks clean', () => {
  expect(check(SRC)).toEqual([])
})
