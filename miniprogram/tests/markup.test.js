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
  'pages/a/a.wxml': '<view class="box" bindtap="onTap" aria-role="button">{{title}}</view>\n',
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
  const problems = check(project({ 'pages/a/a.wxml': '<view bindtap="onTapp" aria-role="button">x</view>\n' }))
  expect(problems.join('\n')).toMatch(/onTapp/)
})

test('a handler that is a function in the file but not a method of the page fails', () => {
  const js = 'function onHelp() {}\nconst x = { onOther() {} }\nComponent({ methods: { onTap() { onHelp() } } })\n'
  const wxml = '<view bindtap="onHelp" aria-role="button">x</view><view bindtap="onOther" aria-role="button">y</view>\n'
  const text = check(project({ 'pages/a/a.js': js, 'pages/a/a.wxml': wxml })).join('\n')
  expect(text).toMatch(/onHelp 不是/)
  expect(text).toMatch(/onOther 不是/)
})

test('a handler that comes from a behavior passes', () => {
  const problems = check(
    project({
      'behaviors/b.js': 'module.exports = Behavior({ methods: { onShared() {} } })\n',
      'pages/a/a.js': "const b = require('../../behaviors/b')\nComponent({ behaviors: [b], methods: { onTap() {} } })\n",
      'pages/a/a.wxml': '<view bindtap="onShared" aria-role="button">x</view>\n',
    })
  )
  expect(problems).toEqual([])
})

describe('pull-down refresh', () => {
  const js = 'Component({ methods: { onTap() {}, onPullDownRefresh() {} } })\n'

  test('onPullDownRefresh without enablePullDownRefresh in the page json fails', () => {
    const problems = check(project({ 'pages/a/a.js': js }))
    expect(problems.join('\n')).toMatch(/pages\/a\/a: 有 onPullDownRefresh，但 pages\/a\/a\.json 没有 "enablePullDownRefresh": true/)
  })

  test('it passes when the page json (or app.json window) enables it', () => {
    expect(check(project({ 'pages/a/a.js': js, 'pages/a/a.json': JSON.stringify({ enablePullDownRefresh: true, usingComponents: {} }) }))).toEqual([])
    expect(check(project({ 'pages/a/a.js': js, 'app.json': JSON.stringify({ pages: ['pages/a/a'], window: { enablePullDownRefresh: true } }) }))).toEqual([])
  })
})

describe('location interfaces', () => {
  const js = "Component({ methods: { onTap() { wx.getLocation({ type: 'gcj02' }); wx.chooseLocation({}) } } })\n"

  test('a location API used in code but missing from requiredPrivateInfos fails', () => {
    const problems = check(project({ 'pages/a/a.js': js, 'app.json': JSON.stringify({ pages: ['pages/a/a'], requiredPrivateInfos: ['getLocation'] }) }))
    const text = problems.join('\n')
    expect(text).toMatch(/wx\.chooseLocation.*requiredPrivateInfos/)
    expect(text).not.toMatch(/wx\.getLocation/)
  })

  test('declared APIs pass, and a mention in a comment is not a use', () => {
    const declared = JSON.stringify({ pages: ['pages/a/a'], requiredPrivateInfos: ['getLocation', 'chooseLocation'] })
    expect(check(project({ 'pages/a/a.js': js, 'app.json': declared }))).toEqual([])
    const comment = '// calls wx.startLocationUpdate later\nComponent({ methods: { onTap() {} } })\n'
    expect(check(project({ 'pages/a/a.js': comment }))).toEqual([])
  })
})

describe('accessibility', () => {
  test('a tappable view without aria-role fails', () => {
    const problems = check(project({ 'pages/a/a.wxml': '<view class="box" bindtap="onTap">x</view>\n' }))
    expect(problems.join('\n')).toMatch(/可点的 <view \.box> 没有 aria-role/)
  })

  test('a checkbox without aria-checked and a tab without aria-selected fail', () => {
    const wxml = '<view bindtap="onTap" aria-role="checkbox">x</view><view bindtap="onTap" aria-role="tab">y</view>\n'
    const text = check(project({ 'pages/a/a.wxml': wxml })).join('\n')
    expect(text).toMatch(/aria-role="checkbox".*缺少 aria-checked/)
    expect(text).toMatch(/aria-role="tab".*缺少 aria-selected/)
  })

  test('a tap target under 88rpx fails; a small child inside a large target does not', () => {
    const wxss = '.box { min-height: 64rpx; }\n.box .dot { height: 20rpx; }\n'
    const text = check(project({ 'pages/a/a.wxss': wxss })).join('\n')
    expect(text).toMatch(/\.box 的 min-height 是 64rpx/)
    expect(text).not.toMatch(/dot/)
  })

  test('text and background below 4.5:1 fail, the disabled button of old included', () => {
    const problems = check(project({ 'pages/a/a.wxss': '.btn[disabled] { background-color: #9aa4b2; color: #ffffff; }\n' }))
    expect(problems.join('\n')).toMatch(/\.btn\[disabled\] 的文字 #ffffff 与背景 #9aa4b2 对比度 2\.\d+:1/)
  })
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
