// 投票页：先看规则，再投（一项，截止前可改），拒绝的原因用中文，结束后看结果（票数只在服务器给时显示），
// 从不显示谁投了票。订阅消息 vote_opened / vote_closing 打开的就是这一页。
const { createWx, NETWORK_FAIL, lastToast, error } = require('./helpers/wx')
const { loadPage, render, settle, tap, text } = require('./helpers/page')
const fx = require('./helpers/fixtures')
const config = require('../src/config')

let pageId
let wx
beforeAll(() => {
  pageId = loadPage('pages/topics/vote')
})

beforeEach(() => {
  wx = createWx()
  global.wx = wx
  config.retryDelayMs = 0
  wx.__server.on('GET', '/votes/:id', fx.vote())
})

async function open(id = '9') {
  const page = render(pageId)
  page.instance.onLoad({ id })
  await settle()
  return page
}

test('the rules are shown before voting: options, window, quorum, threshold, by household', async () => {
  const page = await open()
  expect(wx.__server.calls('GET', '/votes/9')).toHaveLength(1)
  const rules = text(page, '#rules')
  expect(rules).toContain('12月5日 08:00 至 12月12日 20:00')
  expect(rules).toContain('按户投票：每户一票，由户代表投')
  expect(rules).toContain('投票的人数达到名册的50%，投票才有效')
  expect(rules).toContain('选“同意”的超过有效票的60%，才算通过')
  expect(rules).toContain('名册上共120户')
  expect(rules).toContain('投票不记名')
  expect(text(page, '#option-21')).toBe('同意')
  expect(text(page, '#option-22')).toBe('不同意')
  expect(page.querySelector('#voted-note')).toBeUndefined()
  expect(page.querySelector('#result')).toBeUndefined()
  expect(text(page, '#cast')).toBe('投票')
})

test('one choice, cast with a key; then "您已投票，可在截止前修改" and a change is allowed', async () => {
  wx.__server.on('POST', '/votes/:id/cast', (req) => fx.vote({ voted: true, my_option: req.data.option_id }))
  const page = await open()
  tap(page, '#cast')
  await settle()
  expect(text(page, '#cast-error')).toBe('请先选一项')
  expect(wx.__server.calls('POST', '/votes/9/cast')).toHaveLength(0)

  tap(page, '#option-21')
  tap(page, '#option-22')
  await settle()
  expect(page.data.choice).toBe(22)
  tap(page, '#cast')
  await settle()
  let calls = wx.__server.calls('POST', '/votes/9/cast')
  expect(calls.map((c) => c.data)).toEqual([{ option_id: 22 }])
  expect(calls[0].header['Idempotency-Key']).toBeTruthy()
  expect(lastToast(wx)).toBe('投票成功')
  expect(text(page, '#voted-note')).toBe('您已投票，可在截止前修改（12月12日 20:00截止）')
  expect(text(page, '#option-22')).toContain('（我投的）')
  expect(text(page, '#cast')).toBe('改投这一项')

  tap(page, '#option-21')
  tap(page, '#cast')
  await settle()
  calls = wx.__server.calls('POST', '/votes/9/cast')
  expect(calls.map((c) => c.data)).toEqual([{ option_id: 22 }, { option_id: 21 }])
  expect(calls[0].header['Idempotency-Key']).not.toBe(calls[1].header['Idempotency-Key'])
  expect(lastToast(wx)).toBe('已改好')
  expect(text(page, '#option-21')).toContain('（我投的）')
})

test('opening after voting: my choice is preselected while open', async () => {
  wx.__server.on('GET', '/votes/:id', fx.vote({ voted: true, my_option: 21 }))
  const page = await open()
  expect(page.data.choice).toBe(21)
  expect(text(page, '#voted-note')).toContain('您已投票，可在截止前修改')
})

test('not on the roll: told to register a home first, with the way there', async () => {
  wx.__server.on('POST', '/votes/:id/cast', error(403, 'not_on_roll', '您不在本次投票的名册上'))
  const page = await open()
  tap(page, '#option-21')
  tap(page, '#cast')
  await settle()
  expect(text(page, '#cast-error')).toBe('您还不在本次投票的名册上，请先登记住址')
  tap(page, '#go-home')
  await settle()
  expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/topics/home' }))
})

test('the vote closed meanwhile: told, and the result is shown', async () => {
  wx.__server.on('POST', '/votes/:id/cast', error(409, 'vote_not_open', '现在不在投票时间内'))
  const page = await open()
  wx.__server.on('GET', '/votes/:id', fx.vote({ status: 'closed', status_label: '已结束', result: fx.voteResult() }))
  tap(page, '#option-21')
  tap(page, '#cast')
  await settle()
  expect(page.data.castError).toBe('现在不在投票时间内')
  expect(text(page, '#result-passed')).toBe('通过')
  expect(page.querySelector('#ballot')).toBeUndefined()
})

test('already voted on paper: told in Chinese; a paper voter has no online ballot button', async () => {
  wx.__server.on('POST', '/votes/:id/cast', error(409, 'already_voted', '该户（人）已经投过票（纸质）'))
  const page = await open()
  wx.__server.on('GET', '/votes/:id', fx.vote({ voted: true, channel: 'paper' }))
  tap(page, '#option-21')
  tap(page, '#cast')
  await settle()
  expect(page.data.castError).toBe('您（您这一户）已经投过票了，纸质选票投过的不能再网上投')
  expect(text(page, '#voted-paper')).toContain('纸质选票')
  expect(page.querySelector('#cast')).toBeUndefined()
})

test('after the close: passed or not and turnout; counts per option when the server gives them', async () => {
  wx.__server.on('GET', '/votes/:id', fx.vote({ status: 'closed', status_label: '已结束', voted: true, result: fx.voteResult() }))
  const page = await open()
  expect(text(page, '#result-passed')).toBe('通过')
  expect(text(page, '#turnout')).toBe('投票率 66.7%（名册120，投了80票）')
  const counts = text(page, '#counts')
  expect(counts).toContain('同意：60票')
  expect(counts).toContain('不同意：20票')
  expect(page.querySelector('#ballot')).toBeUndefined()
  expect(page.querySelector('#no-quorum')).toBeUndefined()
})

test('a small vote: no counts, only passed or not; below the quorum it says so', async () => {
  wx.__server.on('GET', '/votes/:id', fx.vote({
    status: 'closed',
    status_label: '已结束',
    result: fx.voteResult({ ballots: 3, roll_size: 10, turnout_pct: 30, quorum_met: false, passed: false, counts: null }),
  }))
  const page = await open()
  expect(text(page, '#result-passed')).toBe('未通过')
  expect(page.querySelector('#counts')).toBeUndefined()
  expect(text(page, '#no-counts')).toContain('只公布通过与否')
  expect(text(page, '#no-quorum')).toContain('没有达到规定')
})

test('never shows who voted: the page shows no names, only counts', async () => {
  wx.__server.on('GET', '/votes/:id', fx.vote({ status: 'closed', status_label: '已结束', voted: true, my_option: null, result: fx.voteResult() }))
  const page = await open()
  const all = page.dom.textContent
  expect(all).not.toMatch(/王阿姨|谁投了[^什]/)
  expect(page.querySelectorAll('.choice')).toHaveLength(0)
})

test('not yet open: rules shown, no ballot', async () => {
  wx.__server.on('GET', '/votes/:id', fx.vote({ status: 'draft', status_label: '草稿' }))
  const page = await open()
  expect(text(page, '#not-open')).toContain('投票还没有开始')
  expect(page.querySelector('#ballot')).toBeUndefined()
  expect(text(page, '#rules')).toContain('投票才有效')
})

test('a failure is told and "再试一次" loads again; a missing vote is told in Chinese', async () => {
  let online = false
  wx.__server.on('GET', '/votes/:id', () => (online ? fx.vote() : NETWORK_FAIL))
  const page = await open()
  await settle(10)
  expect(text(page, '.load-error-text')).toBe('网络不好，请稍后再试')
  online = true
  tap(page, '.retry-btn')
  await settle()
  expect(text(page, '#vote-title')).toBe('空地改成小花园')

  wx.__server.on('GET', '/votes/:id', error(404, 'vote_not_found', '投票不存在'))
  const missing = await open('99')
  expect(text(missing, '.load-error-text')).toBe('没有找到这次投票')
})

test('coming back reloads; pull-down refreshes; sharing opens the same vote; the topic is one tap away', async () => {
  const page = await open()
  page.instance.onShow()
  await settle()
  await page.instance.onPullDownRefresh()
  expect(wx.__server.calls('GET', '/votes/9')).toHaveLength(3)
  expect(page.instance.onShareAppMessage().path).toBe('/pages/topics/vote?id=9')
  tap(page, '#open-topic')
  await settle()
  expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/topics/topic?id=7' }))
})
