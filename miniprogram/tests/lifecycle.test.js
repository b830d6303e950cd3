// 页面按微信的方式驱动（onLoad、onShow、onHide、返回）：加载失败能“再试一次”，下拉能刷新，
// 从别的页面回来会更新；转发打开的是公开页面；打开小程序时检查新版本、不问位置。
const { createWx, NETWORK_FAIL, error, eventually } = require('./helpers/wx')
const { loadPage, render, settle, tap } = require('./helpers/page')
const { ticket, event, media, unitCard, bulletinBrief, notification, UNIT_BRIEF } = require('./helpers/fixtures')
const config = require('../src/config')

let ticketId
let statsId
let bulletinId
let notificationsId
let wx
beforeAll(() => {
  ticketId = loadPage('pages/ticket/ticket')
  statsId = loadPage('pages/stats/stats')
  bulletinId = loadPage('pages/bulletin/bulletin')
  notificationsId = loadPage('pages/notifications/notifications')
})

beforeEach(() => {
  wx = createWx()
  global.wx = wx
  config.retryDelayMs = 0
})

// 网络先断着，flip() 之后恢复
function flaky(body) {
  const state = { up: false }
  state.handler = () => (state.up ? body : NETWORK_FAIL)
  return state
}

describe('launch', () => {
  test('the app logs in and checks for a new version, and does not ask for the location', async () => {
    let appOptions
    global.App = (opts) => {
      appOptions = opts
    }
    jest.isolateModules(() => require('../src/app.js'))
    appOptions.onLaunch()
    await eventually(() => expect(wx.__server.calls('POST', '/auth/login')).toHaveLength(1))
    expect(wx.getUpdateManager).toHaveBeenCalledTimes(1)
    expect(wx.getLocation).not.toHaveBeenCalled()
    // 新版本下载好了：问一下，同意就重启到新版本
    wx.__update.ready()
    await settle()
    expect(wx.showModal).toHaveBeenCalledWith(expect.objectContaining({ title: '有新版本' }))
    expect(wx.__update.applyUpdate).toHaveBeenCalledTimes(1)
  })

  test('"等一会" keeps the running version', async () => {
    wx.showModal.mockImplementation((opts) => setTimeout(() => opts.success({ confirm: false, cancel: true }), 0))
    require('../src/utils/update').check()
    wx.__update.ready()
    await settle()
    expect(wx.__update.applyUpdate).not.toHaveBeenCalled()
  })
})

describe('a ticket', () => {
  const EVENTS = [event({ id: 1, action: 'report', from_status: null, to_status: 'submitted', to_status_label: '待受理', at: '2026-10-01T00:00:00+00:00' })]

  async function open(id = '1') {
    const page = render(ticketId)
    page.instance.onLoad({ id })
    await settle()
    return page
  }

  test('a failed load offers 再试一次, which loads it', async () => {
    const t = flaky(ticket({ media: [media(3)] }))
    wx.__server.on('GET', '/tickets/1', t.handler)
    wx.__server.on('GET', '/tickets/1/events', { items: EVENTS, next_cursor: null })
    const page = await open()
    expect(page.dom.textContent).toContain('网络不好，请稍后再试')
    expect(page.querySelector('.event')).toBeUndefined()
    t.up = true
    tap(page, '.retry-btn')
    await settle()
    expect(page.querySelectorAll('.event')).toHaveLength(1)
    expect(page.querySelector('.retry-btn')).toBeUndefined()
  })

  test('pull-down refresh reloads it and stops the spinner; the page json enables it', async () => {
    wx.__server.on('GET', '/tickets/1', ticket())
    wx.__server.on('GET', '/tickets/1/events', { items: EVENTS, next_cursor: null })
    const page = await open()
    await page.instance.onPullDownRefresh()
    expect(wx.__server.calls('GET', '/tickets/1')).toHaveLength(2)
    expect(wx.stopPullDownRefresh).toHaveBeenCalled()
    expect(require('../src/pages/ticket/ticket.json').enablePullDownRefresh).toBe(true)
  })

  test('hidden while a cadre handles it elsewhere, it shows the new status when they come back', async () => {
    wx.__server.on('GET', '/tickets/1', ticket({ status: 'accepted', status_label: '已受理', allowed_actions: ['resolve'] }))
    wx.__server.on('GET', '/tickets/1/events', { items: EVENTS, next_cursor: null })
    const page = await open()
    page.instance.onShow()
    tap(page, '#action-resolve')
    await settle()
    expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/handle/handle?id=1&action=resolve' }))
    page.instance.onHide && page.instance.onHide()
    wx.__server.on('GET', '/tickets/1', ticket())
    // 返回：微信对下面的页面调用 onShow
    page.instance.onShow()
    await settle()
    expect(page.data.ticket.statusLabel).toBe('已办结')
  })

  test('shared to a group chat it opens this ticket, with its first photo; a held one shares the home page', async () => {
    wx.__server.on('GET', '/tickets/1', ticket({ media: [media(3)] }))
    wx.__server.on('GET', '/tickets/1/events', { items: EVENTS, next_cursor: null })
    const page = await open()
    const share = page.instance.onShareAppMessage()
    expect(share.path).toBe('/pages/ticket/ticket?id=1')
    expect(share.title).toContain('路灯损坏')
    expect(share.imageUrl).toBe('http://127.0.0.1:8000/media/2026/10/ab/photo3.jpg')
    expect(page.querySelector('#share')).toBeDefined()

    wx.__server.on('GET', '/tickets/2', ticket({ id: 2, held: true }))
    wx.__server.on('GET', '/tickets/2/events', { items: EVENTS, next_cursor: null })
    const held = await open('2')
    expect(held.instance.onShareAppMessage().path).toBe('/pages/index/index')
    expect(held.querySelector('#share')).toBeUndefined()
  })
})

describe('report card, bulletin, messages', () => {
  test('a report card that failed (503 even after retries) offers 再试一次, and shares its unit and month', async () => {
    let up = false
    wx.__server.on('GET', '/units', { items: [UNIT_BRIEF], next_cursor: null })
    wx.__server.on('GET', '/bulletins', { items: [], next_cursor: null })
    wx.__server.on('GET', '/stats/units/4', (req) => (up ? unitCard({ period: req.query.period }) : error(503, 'service_unavailable', '服务暂时不可用，请稍后再试')))
    const page = render(statsId)
    page.instance.onLoad({ unit: '4', period: '2026-10' })
    await settle()
    expect(wx.__server.calls('GET', '/stats/units/4')).toHaveLength(1 + config.networkRetries)
    expect(page.querySelector('#card')).toBeUndefined()
    up = true
    tap(page, '.retry-btn')
    await settle()
    expect(page.querySelector('#card')).toBeDefined()
    const share = page.instance.onShareAppMessage()
    expect(share.path).toBe('/pages/stats/stats?unit=4&period=2026-10')
    expect(share.title).toContain('花桥社区')
    await page.instance.onPullDownRefresh()
    expect(wx.stopPullDownRefresh).toHaveBeenCalled()
  })

  test('when even the list of units fails, the report card offers 再试一次', async () => {
    let up = false
    wx.__server.on('GET', '/units', () => (up ? { items: [UNIT_BRIEF], next_cursor: null } : NETWORK_FAIL))
    wx.__server.on('GET', '/bulletins', { items: [], next_cursor: null })
    wx.__server.on('GET', '/stats/units/4', (req) => unitCard({ period: req.query.period }))
    const page = render(statsId)
    page.instance.onLoad({ period: '2026-10' })
    await settle()
    expect(page.dom.textContent).toContain('网络不好，请稍后再试')
    up = true
    tap(page, '.retry-btn')
    await settle()
    expect(page.querySelector('#card')).toBeDefined()
  })

  test('a bulletin that failed offers 再试一次, and shares itself', async () => {
    const b = flaky(Object.assign(bulletinBrief(), { min_tickets: 5, weights: {}, definitions: {}, units: [] }))
    wx.__server.on('GET', '/bulletins/1', b.handler)
    const page = render(bulletinId)
    page.instance.onLoad({ id: '1' })
    await settle()
    expect(page.dom.textContent).toContain('网络不好')
    b.up = true
    tap(page, '.retry-btn')
    await settle()
    expect(page.dom.textContent).toContain('2026年9-10月接诉即办通报')
    expect(page.instance.onShareAppMessage()).toEqual({ title: '2026年9-10月接诉即办通报', path: '/pages/bulletin/bulletin?id=1' })
  })

  test('messages that failed to load offer 再试一次', async () => {
    const n = flaky({ items: [notification({ id: 12, title: '您的反映已受理', ticket_id: 1, read: false })], next_cursor: null, unread: 1 })
    wx.__server.on('GET', '/notifications', n.handler)
    const page = render(notificationsId)
    page.instance.onLoad({})
    await settle()
    expect(page.querySelector('.note')).toBeUndefined()
    n.up = true
    tap(page, '.retry-btn')
    await settle()
    expect(page.querySelectorAll('.note')).toHaveLength(1)
  })
})
