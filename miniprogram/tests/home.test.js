// 首页：工作台入口只给有岗位的人；附近的反映上地图；我的反映；未读消息。
const { createWx, USER } = require('./helpers/wx')
const { loadPage, render, settle, tap } = require('./helpers/page')
const { ticket, userWith } = require('./helpers/fixtures')
const config = require('../src/config')

let pageId
let wx
beforeAll(() => {
  pageId = loadPage('pages/index/index')
})

beforeEach(() => {
  wx = createWx()
  global.wx = wx
  config.retryDelayMs = 0
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

test('nearby reports: the map asks for a box around the phone, nearest first, within 1 km', async () => {
  const page = await open()
  const q = wx.__server.calls('GET', '/tickets/map')[0].query
  expect(q.coord).toBe('gcj02')
  expect(Object.keys(q).sort()).toEqual(['coord', 'max_lat', 'max_lng', 'min_lat', 'min_lng'])
  // 约 1 公里的方框，定位点在正中
  expect(Number(q.min_lat)).toBeCloseTo(30.5801 - 0.009, 3)
  expect(Number(q.max_lat)).toBeCloseTo(30.5801 + 0.009, 3)
  expect(Number(q.min_lng)).toBeLessThan(114.2734 - 0.0103)
  expect(Number(q.max_lng)).toBeGreaterThan(114.2734 + 0.0103)
  expect(page.data.markers).toHaveLength(2)
  expect(page.data.markers[0]).toMatchObject({ latitude: 30.5805, iconPath: '/images/marker.png' })
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
    expect(wx.__server.calls('GET', '/tickets')).toHaveLength(1)
  })
})
