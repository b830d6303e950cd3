// 首页：工作台入口只给有岗位的人；附近的反映上地图；我的反映；未读消息。
const { createWx, USER } = require('./helpers/wx')
const { loadPage, render, settle, tap } = require('./helpers/page')
const { ticket, userWith } = require('./helpers/fixtures')
const config = require('../src/config')
const { NETWORK_FAIL } = require('./helpers/wx')
const location = require('../src/utils/location')

let pageId
let wx
beforeAll(() => {
  pageId = loadPage('pages/index/index')
})

beforeEach(() => {
  wx = createWx()
  global.wx = wx
  config.retryDelayMs = 0
  location.reset()
  wx.__server.on('GET', '/tickets', (req) => ({
    items: req.query.scope === 'mine' ? [ticket({ id: 11, status: 'accepted', status_label: '已受理' })] : [],
    next_cursor: null,
  }))
  // 方框的一角（离定位点约 1.3 公里）不在 1 公里内，不显示
  wx.__server.on('GET', '/tickets/map', {
    items: [
      ticket({ id: 21, lat: 30.589, lng: 114.2734, coord: 'gcj02', status: 'submitted', status_label: '待受理' }),
      ticket({ id: 22, lat: 30.5805, lng: 114.2734, coord: 'gcj02', status: 'accepted', status_label: '已受理' }),
      ticket({ id: 23, lat: 30.589, lng: 114.2834, coord: 'gcj02', status: 'submitted', status_label: '待受理' }),
    ],
    next_cursor: null,
  })
  wx.__server.on('GET', '/notifications', { items: [], next_cursor: null, unread: 3 })
})

async function open() {
  const page = render(pageId)
  page.instance.onLoad({})
  await settle()
  return page
}

test('a resident sees no staff entry; someone with a post does', async () => {
  let page = await open()
  expect(page.querySelector('#open-staff')).toBeUndefined()

  wx.__server.on('GET', '/me', userWith('grid_worker'))
  page = await open()
  expect(page.querySelector('#open-staff')).toBeDefined()
  tap(page, '#open-staff')
  await settle()
  expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/staff/staff' }))
})

test('opening the mini-program does not ask for the location; the nearby list does, when asked for', async () => {
  const page = await open()
  expect(wx.getLocation).not.toHaveBeenCalled()
  expect(wx.getPrivacySetting).not.toHaveBeenCalled()
  expect(wx.__server.calls('GET', '/tickets/map')).toHaveLength(0)
  tap(page, '#show-nearby')
  await settle()
  expect(wx.getLocation).toHaveBeenCalledTimes(1)
  expect(page.data.nearby).toHaveLength(2)
})

test('a fresh shared location fix (e.g. from the report form) shows the nearby list at once, without locating again', async () => {
  await location.locate()
  expect(wx.getLocation).toHaveBeenCalledTimes(1)
  const page = await open()
  expect(wx.getLocation).toHaveBeenCalledTimes(1)
  expect(page.data.nearby.map((t) => t.id)).toEqual([22, 21])
})

test('nearby reports: the map asks for a box around the phone, nearest first, within 1 km', async () => {
  const page = await open()
  tap(page, '#show-nearby')
  await settle()
  const q = wx.__server.calls('GET', '/tickets/map')[0].query
  expect(q.coord).toBe('gcj02')
  expect(Object.keys(q).sort()).toEqual(['coord', 'max_lat', 'max_lng', 'min_lat', 'min_lng'])
  // 约 1 公里的方框，定位点在正中
  expect(Number(q.min_lat)).toBeCloseTo(30.5801 - 0.009, 3)
  expect(Number(q.max_lat)).toBeCloseTo(30.5801 + 0.009, 3)
  expect(Number(q.min_lng)).toBeLessThan(114.2734 - 0.0103)
  expect(Number(q.max_lng)).toBeGreaterThan(114.2734 + 0.0103)
  expect(page.data.markers).toHaveLength(2)
  // 标记按状态分颜色：已受理（办理中）蓝、待受理红；读屏软件读 ariaLabel
  expect(page.data.markers[0]).toMatchObject({ latitude: 30.5805, iconPath: '/images/marker-doing.png', ariaLabel: '路灯损坏 · 已受理' })
  expect(page.data.markers[1].iconPath).toBe('/images/marker-new.png')
  expect(page.data.markers[0].callout.content).toBe('路灯损坏 · 已受理')
  expect(page.data.nearby.map((t) => t.id)).toEqual([22, 21])
  expect(page.data.nearby[0].distanceText).toBe('44米')
  page.instance.onMarkerTap({ detail: { markerId: 1 } })
  expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/ticket/ticket?id=21' }))
})

test('my reports come from scope=mine, with the status the server names', async () => {
  const page = await open()
  tap(page, '#tab-mine')
  await settle()
  expect(wx.__server.calls('GET', '/tickets')[0].query).toMatchObject({ scope: 'mine', limit: '20' })
  const items = page.querySelectorAll('.mine-item')
  expect(items).toHaveLength(1)
  expect(items[0].dom.textContent).toContain('已受理')
  expect(items[0].dom.textContent).toContain('花桥社区')
})

test('panning the map reloads the reports of the new area', async () => {
  const page = await open()
  tap(page, '#show-nearby')
  await settle()
  wx.__server.on('GET', '/tickets/map', {
    items: [ticket({ id: 31, lat: 30.6001, lng: 114.3001, coord: 'gcj02', status: 'resolved', status_label: '已办结' })],
    next_cursor: null,
  })
  const region = { northeast: { latitude: 30.605, longitude: 114.306 }, southwest: { latitude: 30.595, longitude: 114.294 } }
  // 拖动开始、以及程序自己更新地图时不查
  await page.instance.onRegionChange({ type: 'begin', causedBy: 'gesture', detail: {} })
  await page.instance.onRegionChange({ type: 'end', causedBy: 'update', detail: { region } })
  expect(wx.__server.calls('GET', '/tickets/map')).toHaveLength(1)
  await page.instance.onRegionChange({ type: 'end', causedBy: 'drag', detail: { region } })
  await settle()
  const calls = wx.__server.calls('GET', '/tickets/map')
  expect(calls).toHaveLength(2)
  const q = calls[1].query
  expect(Number(q.min_lat)).toBeCloseTo(30.595, 3)
  expect(Number(q.max_lat)).toBeCloseTo(30.605, 3)
  expect(page.data.nearby.map((t) => t.id)).toEqual([31])
  expect(page.data.markers[0].iconPath).toBe('/images/marker-done.png')
})

test('when the map fails to load, 再试一次 loads it again', async () => {
  let up = false
  const items = [ticket({ id: 22, lat: 30.5805, lng: 114.2734, coord: 'gcj02', status: 'accepted', status_label: '已受理' })]
  wx.__server.on('GET', '/tickets/map', () => (up ? { items, next_cursor: null } : NETWORK_FAIL))
  const page = await open()
  tap(page, '#show-nearby')
  await settle()
  expect(page.dom.textContent).toContain('网络不好，请稍后再试')
  up = true
  tap(page, '.retry-btn')
  await settle()
  expect(page.data.nearby.map((t) => t.id)).toEqual([22])
  expect(page.querySelector('.retry-btn')).toBeUndefined()
})

describe('my reports', () => {
  const toRate = ticket({ id: 12, status: 'resolved', status_label: '已办结', allowed_actions: ['rate'] })
  beforeEach(() => {
    wx.__server.on('GET', '/tickets', (req) => {
      const status = req.query.status
      if (status === 'resolved') return { items: [toRate], next_cursor: null }
      if (status === 'withdrawn') return { items: [ticket({ id: 14, status: 'withdrawn', status_label: '已撤回' })], next_cursor: null }
      return { items: [ticket({ id: 11, status: 'accepted', status_label: '已受理' }), toRate], next_cursor: null }
    })
  })

  test('the ones waiting for a rating come first, counted on the tab', async () => {
    const page = await open()
    tap(page, '#tab-mine')
    await settle()
    expect(page.data.mine.map((t) => t.id)).toEqual([12, 11])
    expect(page.dom.textContent).toContain('1条待评价')
    expect(page.querySelectorAll('.mine-item')[0].dom.textContent).toContain('待评价')
  })

  test('status filters ask the server for those statuses', async () => {
    const page = await open()
    tap(page, '#tab-mine')
    await settle()
    tap(page, '#filter-returned')
    await settle()
    const urls = wx.request.mock.calls.map((c) => c[0].url).filter((u) => /\/tickets\?/.test(u))
    expect(urls.some((u) => u.indexOf('status=returned&status=withdrawn') >= 0)).toBe(true)
    expect(page.data.mine.map((t) => t.id)).toEqual([14])
    expect(page.querySelector('#filter-returned').dom.className).toMatch(/filter-on/)
    tap(page, '#filter-rate')
    await settle()
    expect(page.data.mine.map((t) => t.id)).toEqual([12])
  })

  test('a failed load offers 再试一次; coming back to the page (onShow) refreshes the list', async () => {
    let up = false
    wx.__server.on('GET', '/tickets', () => (up ? { items: [ticket({ id: 11, status: 'accepted', status_label: '已受理' })], next_cursor: null } : NETWORK_FAIL))
    const page = await open()
    tap(page, '#tab-mine')
    await settle()
    expect(page.querySelector('.retry-btn')).toBeDefined()
    up = true
    tap(page, '.retry-btn')
    await settle()
    expect(page.data.mine.map((t) => t.id)).toEqual([11])
    wx.__server.on('GET', '/tickets', { items: [ticket({ id: 11, status: 'resolved', status_label: '已办结' })], next_cursor: null })
    // 微信：onLoad 之后紧跟 onShow（不重复加载）；去详情页时 onHide，返回时 onShow（重新加载）
    const calls = wx.__server.calls('GET', '/tickets').length
    await page.instance.onShow()
    expect(wx.__server.calls('GET', '/tickets')).toHaveLength(calls)
    page.instance.onHide()
    await page.instance.onShow()
    await settle()
    expect(page.data.mine[0].statusLabel).toBe('已办结')
  })

  test('pull-down refresh reloads the list and stops the spinner', async () => {
    const page = await open()
    const before = wx.__server.calls('GET', '/tickets').length
    await page.instance.onPullDownRefresh()
    expect(wx.__server.calls('GET', '/tickets').length).toBeGreaterThan(before)
    expect(wx.stopPullDownRefresh).toHaveBeenCalled()
  })
})

test('the unread count is shown', async () => {
  const page = await open()
  expect(page.dom.textContent).toContain('3条新消息')
})

test('the big report button opens the report form', async () => {
  const page = await open()
  tap(page, '#report')
  await settle()
  expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/report/report' }))
})

describe('my data and privacy', () => {
  const session = require('../src/utils/session')

  afterEach(() => session.clearSignedOut())

  test('the home page links to "我的数据与隐私"', async () => {
    const page = await open()
    tap(page, '#open-privacy')
    await settle()
    expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/privacy/privacy' }))
  })

  test('after deleting the account the home page is logged out: no silent new login until "重新登录"', async () => {
    session.markSignedOut()
    const page = await open()
    expect(page.querySelector('#signed-out')).toBeDefined()
    expect(page.querySelector('#report')).toBeUndefined()
    expect(wx.login).not.toHaveBeenCalled()
    expect(wx.__server.requests).toHaveLength(0)

    tap(page, '#sign-in')
    await settle()
    expect(wx.__server.calls('POST', '/auth/login')).toHaveLength(1)
    expect(session.isSignedOut()).toBe(false)
    expect(page.querySelector('#signed-out')).toBeUndefined()
    expect(page.querySelector('#report')).toBeDefined()
    expect(wx.__server.calls('GET', '/tickets').filter((c) => !c.query.status)).toHaveLength(1)
  })
})
