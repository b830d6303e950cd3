// 首页：工作台入口只给有岗位的人；附近的反映上地图；我的反映；未读消息。
const { createWx, USER } = require('./helpers/wx')
const { loadPage, render, settle, tap } = require('./helpers/page')
const { ticket } = require('./helpers/fixtures')
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
  wx.__server.on('GET', '/tickets', (req) => ({ items: req.query.scope === 'mine' ? [ticket({ id: 'mine1', status: 'accepted' })] : [], next_cursor: null }))
  wx.__server.on('GET', '/tickets/map', { items: [ticket({ id: 'far', lat: 30.59, lng: 114.2734 }), ticket({ id: 'near', lat: 30.5805, lng: 114.2734 })], next_cursor: null })
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

  wx.__server.on('GET', '/me', Object.assign({}, USER, { posts: [{ unit: { id: 7, code: 'xfl', name: '幸福里社区' }, role: 'grid_worker' }] }))
  page = await open()
  expect(page.querySelector('#open-staff')).toBeDefined()
  tap(page, '#open-staff')
  await settle()
  expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/staff/staff' }))
})

test('nearby reports are on the map and in a list, nearest first', async () => {
  const page = await open()
  const q = wx.__server.calls('GET', '/tickets/map')[0].query
  expect(q).toMatchObject({ lat: '30.5801', lng: '114.2734', coord: 'gcj02', radius: '1000' })
  expect(page.data.markers).toHaveLength(2)
  expect(page.data.markers[0]).toMatchObject({ latitude: 30.5805, iconPath: '/images/marker.png' })
  expect(page.data.nearby.map((t) => t.id)).toEqual(['near', 'far'])
  expect(page.data.nearby[0].distanceText).toBe('44米')
  page.instance.onMarkerTap({ detail: { markerId: 1 } })
  expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/ticket/ticket?id=far' }))
})

test('my reports come from scope=mine', async () => {
  const page = await open()
  tap(page, '#tab-mine')
  await settle()
  expect(wx.__server.calls('GET', '/tickets')[0].query.scope).toBe('mine')
  const items = page.querySelectorAll('.mine-item')
  expect(items).toHaveLength(1)
  expect(items[0].dom.textContent).toContain('已受理')
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
