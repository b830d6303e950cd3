// 消息、成绩单、通报。
const { createWx, lastToast } = require('./helpers/wx')
const { loadPage, render, settle, tap, text } = require('./helpers/page')
const { notification, unitCard, bulletinBrief, bulletinUnit, UNIT_BRIEF } = require('./helpers/fixtures')
const config = require('../src/config')

let notificationsId
let statsId
let bulletinId
let wx
beforeAll(() => {
  notificationsId = loadPage('pages/notifications/notifications')
  statsId = loadPage('pages/stats/stats')
  bulletinId = loadPage('pages/bulletin/bulletin')
})

beforeEach(() => {
  wx = createWx()
  global.wx = wx
  config.retryDelayMs = 0
})

function inbox(unread) {
  return {
    items: [
      notification({ id: 12, title: '您的反映已受理', body: '花桥社区已受理您反映的路灯损坏问题', ticket_id: 1, read: false }),
      notification({ id: 11, template: 'ticket_answered', title: '您的反映已办结，请评价', body: '已更换灯泡', ticket_id: 2, read: true, created_at: '2026-10-02T01:00:00+00:00' }),
      notification({ id: 10, template: 'ticket_returned', title: '您的反映已退回', body: '重复反映', ticket_id: 3, read: false }),
    ],
    next_cursor: null,
    unread,
  }
}

async function openInbox() {
  const page = render(notificationsId)
  page.instance.onLoad({})
  await settle()
  return page
}

test('notifications: unread ones stand out; opening marks read and goes to the report', async () => {
  wx.__server.on('GET', '/notifications', inbox(2))
  wx.__server.on('POST', '/notifications/12/read', { unread: 1 })
  const page = await openInbox()
  const notes = page.querySelectorAll('.note')
  expect(notes[0].dom.className).toMatch(/note-unread/)
  expect(notes[1].dom.className).not.toMatch(/note-unread/)
  expect(notes[0].dom.textContent).toContain('10月1日 09:00')
  expect(page.dom.textContent).toContain('有2条没看过的消息')
  notes[0].dispatchEvent('tap')
  await settle()
  const read = wx.__server.calls('POST', '/notifications/12/read')
  expect(read).toHaveLength(1)
  expect(read[0].header['Idempotency-Key']).toBeTruthy()
  expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/ticket/ticket?id=1&n=12' }))
  expect(page.data.unread).toBe(1)
  expect(page.querySelectorAll('.note')[0].dom.className).not.toMatch(/note-unread/)
})

test('notifications: an already read one is opened without marking it again', async () => {
  wx.__server.on('GET', '/notifications', inbox(2))
  const page = await openInbox()
  page.querySelectorAll('.note')[1].dispatchEvent('tap')
  await settle()
  expect(wx.__server.calls('POST', /^\/notifications\/\d+\/read$/)).toHaveLength(0)
  expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/ticket/ticket?id=2&n=11' }))
})

test('notifications: a vote or topic notice opens the page the server names, else the topics list at its tab', async () => {
  wx.__server.on('GET', '/notifications', {
    items: [
      notification({ id: 15, template: 'vote_opened', title: '投票开始', body: '“空地改成小花园”开始投票，请参与', ticket_id: null, page: '/pages/topics/vote?id=7&n=15', read: true }),
      notification({ id: 14, template: 'vote_opened', title: '投票开始', body: '“空地改成小花园”开始投票，请参与', ticket_id: null, page: 'javascript:alert(1)', read: true }),
      notification({ id: 13, template: 'topic_published', title: '议题决定已公开', body: '“空地改成小花园”的决定已公开', ticket_id: null, page: 'https://example.com/', read: true }),
    ],
    next_cursor: null,
    unread: 0,
  })
  const page = await openInbox()
  page.querySelectorAll('.note')[0].dispatchEvent('tap')
  await settle()
  expect(wx.navigateTo).toHaveBeenLastCalledWith(expect.objectContaining({ url: '/pages/topics/vote?id=7&n=15' }))
  // An address that is not a page of the mini-program is never opened: the topics list instead.
  page.querySelectorAll('.note')[1].dispatchEvent('tap')
  await settle()
  expect(wx.navigateTo).toHaveBeenLastCalledWith(expect.objectContaining({ url: '/pages/topics/list?group=voting' }))
  page.querySelectorAll('.note')[2].dispatchEvent('tap')
  await settle()
  expect(wx.navigateTo).toHaveBeenLastCalledWith(expect.objectContaining({ url: '/pages/topics/list?group=decided' }))
})

test('notifications: "mark all as read" uses read-all and clears the marks', async () => {
  wx.__server.on('GET', '/notifications', inbox(2))
  wx.__server.on('POST', '/notifications/read-all', { unread: 0 })
  const page = await openInbox()
  tap(page, '#read-all')
  await settle()
  expect(wx.__server.calls('POST', '/notifications/read-all')).toHaveLength(1)
  expect(page.data.unread).toBe(0)
  expect(page.querySelectorAll('.note-unread')).toHaveLength(0)
  expect(page.querySelector('#read-all')).toBeUndefined()
})

test('report card: the three rates of a unit for a month, its rank, and the bulletins', async () => {
  wx.__server.on('GET', '/units', { items: [UNIT_BRIEF], next_cursor: null })
  wx.__server.on('GET', '/stats/units/4', (req) => unitCard({ period: req.query.period, period_label: req.query.period === '2026-09' ? '2026年9月' : '2026年10月' }))
  wx.__server.on('GET', '/bulletins', { items: [bulletinBrief()], next_cursor: null })
  const page = render(statsId)
  page.instance.onLoad({ unit: '4', period: '2026-10' })
  await settle()
  expect(wx.__server.calls('GET', '/units')[0].query.limit).toBe('200')
  expect(wx.__server.calls('GET', '/stats/units/4')[0].query.period).toBe('2026-10')
  const card = page.querySelector('#card').dom.textContent
  expect(card).toContain('花桥社区 2026年10月')
  expect(card).toContain('42')
  expect(card).toContain('97.6%响应率')
  expect(card).toContain('88.1%解决率')
  expect(card).toContain('90%满意率')
  expect(card).toContain('超时 1 件，还没评价 3 件')
  expect(text(page, '#rank')).toBe('在2个单位中排第2名')
  expect(page.dom.textContent).toContain('2026年9-10月接诉即办通报')
  expect(page.dom.textContent).toContain('2026年9月至10月')
  page.instance.onPickPeriod({ detail: { value: '2026-09' } })
  await settle()
  expect(wx.__server.calls('GET', '/stats/units/4')[1].query.period).toBe('2026-09')
  expect(page.querySelector('#card').dom.textContent).toContain('2026年9月')
})

test('report card: a rate with nothing to count is a dash, and a small unit is not ranked', async () => {
  wx.__server.on('GET', '/units', { items: [UNIT_BRIEF], next_cursor: null })
  wx.__server.on('GET', '/stats/units/4', unitCard({ received: 2, satisfaction_rate: null, rated: 0, ranked: false, rank: null, score: null }))
  wx.__server.on('GET', '/bulletins', { items: [], next_cursor: null })
  const page = render(statsId)
  page.instance.onLoad({ unit: '4', period: '2026-10' })
  await settle()
  const card = page.querySelector('#card').dom.textContent
  expect(card).toContain('—满意率')
  expect(card).toContain('件数不到5件，不参加排名')
  expect(page.querySelector('#rank')).toBeUndefined()
})

test('a bulletin lists the units level by level, each group in rank order', async () => {
  const district = { id: 1, code: 'gz-demo', name: '共治示范区', kind: 'district' }
  const hq = { id: 2, code: 'gz-demo-hq', name: '花桥街道', kind: 'street' }
  const my = { id: 3, code: 'gz-demo-my', name: '民意街道', kind: 'street' }
  wx.__server.on('GET', '/bulletins/1', Object.assign(bulletinBrief(), {
    min_tickets: 5,
    weights: { response_rate: 0.3, resolution_rate: 0.4, satisfaction_rate: 0.3 },
    definitions: {},
    units: [
      bulletinUnit(district, null, 0, { rank: null, ranked: false }),
      bulletinUnit(hq, 1, 1, { rank: 1, response_rate: 0.98, satisfaction_rate: 0.95 }),
      bulletinUnit(my, 1, 1, { rank: null, ranked: false, received: 3, response_rate: null }),
    ],
  }))
  const page = render(bulletinId)
  page.instance.onLoad({ id: '1' })
  await settle()
  expect(page.querySelectorAll('.group-title').map((g) => g.dom.textContent)).toEqual(['总体', '共治示范区下面的单位'])
  const rows = page.querySelectorAll('.table-row').map((r) => r.dom.textContent)
  expect(rows[1]).toContain('花桥街道')
  expect(rows[1]).toContain('第1名')
  expect(rows[1]).toContain('98%')
  expect(rows[1]).toContain('95%')
  expect(rows[2]).toContain('民意街道')
  expect(rows[2]).toContain('不排名')
  expect(rows[2]).toContain('—')
  expect(page.dom.textContent).toContain('2026年9月至10月')
  expect(wx.setNavigationBarTitle).toHaveBeenCalledWith({ title: '2026年9-10月接诉即办通报' })
})

test('a bulletin that does not exist says so', async () => {
  const { error } = require('./helpers/wx')
  wx.__server.on('GET', '/bulletins/9', error(404, 'bulletin_not_found', '通报不存在'))
  const page = render(bulletinId)
  page.instance.onLoad({ id: '9' })
  await settle()
  expect(page.dom.textContent).toContain('通报不存在')
  expect(lastToast(wx)).toBe('')
})
