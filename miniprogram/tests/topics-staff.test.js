// 工作台上的“住址确认”（网格员、干部）与“我关注的”（人大代表等）。
const { createWx, NETWORK_FAIL, lastToast, error } = require('./helpers/wx')
const { loadPage, render, settle, tap, text } = require('./helpers/page')
const fx = require('./helpers/fixtures')
const config = require('../src/config')

let claimsId
let followsId
let staffId
let wx
beforeAll(() => {
  claimsId = loadPage('pages/topics/claims')
  followsId = loadPage('pages/topics/follows')
  staffId = loadPage('pages/staff/staff')
})

function signInAs(user) {
  wx.__storage.gz_user = user
  wx.__server.on('GET', '/me', user)
  wx.__server.on('POST', '/auth/login', { token: 'tok', expires_at: '2999-01-01T00:00:00+08:00', user })
}

beforeEach(() => {
  wx = createWx()
  global.wx = wx
  config.retryDelayMs = 0
  signInAs(fx.userWith('grid_worker'))
  wx.__server.on('GET', '/tickets', { items: [], next_cursor: null })
  wx.__server.on('GET', '/roll/claims', { items: [fx.rollEntry(), fx.rollEntry({ id: 32, household: '5栋101', name: '', version: 2 })] })
  wx.__server.on('POST', '/roll/entries/:id/review', (req) => fx.rollEntry({ id: Number(req.params.id), status: req.data.confirm ? 'confirmed' : 'rejected' }))
  wx.__server.on('GET', '/me/follows', {
    items: [
      { id: 7, kind: 'topic', title: '空地改成小花园', status: 'deciding', status_label: '居民决策' },
      { id: 12, kind: 'ticket', title: '3号楼门口的路灯不亮了', status: 'deliberating', status_label: '议题中' },
    ],
  })
})

async function open(id) {
  const page = render(id)
  page.instance.onLoad({})
  await settle()
  return page
}

describe('the staff page links', () => {
  test('a grid worker sees 住址确认 and 我关注的', async () => {
    const page = await open(staffId)
    tap(page, '#open-claims')
    await settle()
    expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/topics/claims' }))
    tap(page, '#open-follows')
    await settle()
    expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/topics/follows' }))
  })

  test('a deputy sees 我关注的 but does not confirm homes', async () => {
    signInAs(fx.userWith('deputy'))
    const page = await open(staffId)
    expect(page.querySelector('#open-claims')).toBeUndefined()
    expect(page.querySelector('#open-follows')).toBeDefined()
  })
})

describe('confirming homes', () => {
  test('pending claims of the post\'s unit; confirm or reject with the version, then it leaves the list', async () => {
    const page = await open(claimsId)
    expect(wx.__server.calls('GET', '/roll/claims')[0].query).toEqual({ unit_id: '4' })
    expect(text(page, '#claim-31')).toContain('3栋2单元501')
    expect(text(page, '#claim-31')).toContain('名册编号 31')
    expect(text(page, '#claim-32')).toContain('没写称呼')
    tap(page, '#confirm-31')
    await settle()
    tap(page, '#reject-32')
    await settle()
    const calls = wx.__server.calls('POST', /\/roll\/entries\/\d+\/review/)
    expect(calls.map((c) => [c.path, c.data])).toEqual([
      ['/roll/entries/31/review', { confirm: true, version: 1 }],
      ['/roll/entries/32/review', { confirm: false, version: 2 }],
    ])
    expect(calls[0].header['Idempotency-Key']).toBeTruthy()
    expect(lastToast(wx)).toBe('已设为不通过')
    expect(text(page, '#empty')).toBe('没有等确认的住址')
  })

  test('someone else reviewed it first (409): told and refreshed', async () => {
    wx.__server.on('POST', '/roll/entries/:id/review', error(409, 'invalid_transition', '该住址不在待确认状态'))
    const page = await open(claimsId)
    wx.__server.on('GET', '/roll/claims', { items: [fx.rollEntry({ id: 32, version: 2 })] })
    tap(page, '#confirm-31')
    await settle()
    expect(lastToast(wx)).toBe('该住址不在待确认状态')
    expect(page.data.items.map((x) => x.id)).toEqual([32])
  })

  test('not allowed: the refusal in Chinese, the item stays', async () => {
    wx.__server.on('POST', '/roll/entries/:id/review', error(403, 'forbidden', '只有本网格的网格员或干部可以确认住址'))
    const page = await open(claimsId)
    tap(page, '#confirm-31')
    await settle()
    expect(lastToast(wx)).toBe('只有本网格的网格员或干部可以确认住址')
    expect(page.data.items).toHaveLength(2)
  })

  test('a deputy has no claims to confirm', async () => {
    signInAs(fx.userWith('deputy'))
    const page = await open(claimsId)
    expect(text(page, '#not-reviewer')).toContain('只有网格员、干部')
    expect(wx.__server.calls('GET', '/roll/claims')).toHaveLength(0)
  })

  test('a failure to load is told and "再试一次" loads again', async () => {
    let online = false
    wx.__server.on('GET', '/roll/claims', () => (online ? { items: [] } : NETWORK_FAIL))
    const page = await open(claimsId)
    await settle(10)
    expect(text(page, '.load-error-text')).toBe('网络不好，请稍后再试')
    online = true
    tap(page, '.retry-btn')
    await settle()
    expect(text(page, '#empty')).toBe('没有等确认的住址')
  })
})

describe('我关注的', () => {
  test('topics and reports with where each stands; each opens its page', async () => {
    signInAs(fx.userWith('deputy'))
    const page = await open(followsId)
    expect(text(page, '#follow-topic-7')).toContain('空地改成小花园')
    expect(text(page, '#follow-topic-7')).toContain('居民决策')
    expect(text(page, '#follow-ticket-12')).toContain('反映')
    tap(page, '#follow-topic-7')
    await settle()
    expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/topics/topic?id=7' }))
    tap(page, '#follow-ticket-12')
    await settle()
    expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/ticket/ticket?id=12' }))
  })

  test('nothing followed: says how to follow', async () => {
    wx.__server.on('GET', '/me/follows', { items: [] })
    const page = await open(followsId)
    expect(text(page, '#empty')).toContain('关注这个议题')
  })

  test('coming back reloads; a failure is told and "再试一次" loads again', async () => {
    let online = true
    wx.__server.on('GET', '/me/follows', () => (online ? { items: [] } : NETWORK_FAIL))
    const page = await open(followsId)
    online = false
    page.instance.onShow()
    await settle(10)
    expect(text(page, '.load-error-text')).toBe('网络不好，请稍后再试')
    online = true
    tap(page, '.retry-btn')
    await settle()
    expect(page.querySelector('.load-error')).toBeUndefined()
  })
})
