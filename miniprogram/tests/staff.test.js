// 工作台：按岗位显示任务箱、督办、议题；期限倒计时与超时标记。
const { createWx, USER } = require('./helpers/wx')
const { loadPage, render, settle, tap } = require('./helpers/page')
const { ticket, hoursFromNow, userWith } = require('./helpers/fixtures')
const config = require('../src/config')

let pageId
let wx
beforeAll(() => {
  pageId = loadPage('pages/staff/staff')
})

function setup(user, tickets) {
  wx = createWx()
  global.wx = wx
  config.retryDelayMs = 0
  wx.__server.on('GET', '/me', user)
  wx.__server.on('POST', '/auth/login', { token: 'tok', expires_at: '2999-01-01T00:00:00+08:00', user })
  wx.__server.on('GET', '/tickets', { items: tickets || [], next_cursor: null })
}

async function open(query) {
  const page = render(pageId)
  page.instance.onLoad(query || {})
  await settle()
  return page
}

function lastQuery() {
  return wx.__server.calls('GET', '/tickets').pop().query
}

test('a grid worker sees my tasks and the unit, without supervision or deliberation', async () => {
  setup(userWith('grid_worker'))
  const page = await open()
  expect(page.querySelectorAll('.tab').map((t) => t.dom.textContent)).toEqual(['我的任务', '本单位'])
  expect(lastQuery()).toMatchObject({ scope: 'mine', limit: '20' })
  expect(lastQuery().status).toBeUndefined()
})

test('a unit head gets the supervision list: the server\'s scope=supervision (overdue, escalated to us)', async () => {
  setup(userWith('unit_head'))
  const page = await open()
  expect(page.querySelectorAll('.tab').map((t) => t.dom.textContent)).toEqual(['我的任务', '本单位', '督办'])
  tap(page, '#tab-supervise')
  await settle()
  expect(lastQuery()).toEqual({ scope: 'supervision', limit: '20' })
  expect(page.querySelector('.filters')).toBeUndefined()
})

test('a deputy gets the deliberation list', async () => {
  setup(userWith('deputy'))
  const page = await open()
  tap(page, '#tab-deliberate')
  await settle()
  expect(lastQuery()).toMatchObject({ scope: 'unit', status: 'deliberating' })
})

test('the status filter narrows the list', async () => {
  setup(userWith('cadre'))
  const page = await open()
  tap(page, '#tab-unit')
  await settle()
  page.querySelectorAll('.filter')[1].dispatchEvent('tap')
  await settle()
  expect(lastQuery()).toMatchObject({ scope: 'unit', status: 'submitted' })
})

test('deadlines count down, overdue tasks are marked', async () => {
  setup(userWith('grid_worker'), [
    ticket({ id: 31, status: 'submitted', status_label: '待受理', respond_by: hoursFromNow(5), overdue: false }),
    ticket({ id: 32, status: 'in_progress', status_label: '办理中', resolve_by: hoursFromNow(-30), overdue: true, description: '井盖丢了' }),
    ticket({ id: 33, status: 'assigned', status_label: '已派单', resolve_by: hoursFromNow(50), overdue: false, priority: 'urgent', redo: true, redo_count: 1 }),
  ])
  const page = await open()
  const cards = page.querySelectorAll('.task')
  expect(cards).toHaveLength(3)
  expect(cards[0].dom.textContent).toContain('受理还剩 5小时')
  expect(cards[0].dom.textContent).not.toContain('超时')
  expect(cards[1].dom.textContent).toContain('办结已超时 1天6小时')
  const marks = page.querySelectorAll('.overdue-mark')
  expect(marks).toHaveLength(1)
  expect(marks[0].dom.textContent).toBe('超时')
  expect(cards[1].dom.contains(marks[0].dom)).toBe(true)
  expect(cards[2].dom.textContent).toContain('办结还剩 2天2小时')
  expect(cards[2].dom.textContent).toContain('紧急')
  expect(cards[2].dom.textContent).toContain('重办')
  expect(cards[1].dom.textContent).toContain('办理中')
  expect(page.querySelector('#overdue-count').dom.textContent).toBe('有1件已超时，请尽快办理')
  // 快到期（不足一天）的用醒目颜色
  expect(page.data.items[0].soon).toBe(true)
  expect(page.data.items[2].soon).toBe(false)
})

test('more tasks load with next_cursor', async () => {
  setup(userWith('grid_worker'))
  wx.__server.on('GET', '/tickets', (req) =>
    req.query.cursor === 'c2'
      ? { items: [ticket({ id: 40 })], next_cursor: null }
      : { items: [ticket({ id: 41 })], next_cursor: 'c2' }
  )
  const page = await open()
  page.instance.onReachBottom()
  await settle()
  expect(page.data.items.map((t) => t.id)).toEqual([41, 40])
})

test('someone without a post is told so', async () => {
  setup(USER)
  const page = await open()
  expect(page.dom.textContent).toContain('您还没有工作岗位')
  expect(wx.__server.calls('GET', '/tickets')).toHaveLength(0)
})

test('moderators (grid worker, cadre, head, admin) get the "待审核" entry; a deputy does not', async () => {
  setup(userWith('grid_worker'))
  let page = await open()
  expect(page.querySelector('#open-moderation')).toBeDefined()
  tap(page, '#open-moderation')
  await settle()
  expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/moderation/moderation' }))

  setup(userWith('deputy'))
  page = await open()
  expect(page.querySelector('#open-moderation')).toBeUndefined()
})

test('a task list that failed to load offers 再试一次', async () => {
  setup(userWith('grid_worker'))
  const { NETWORK_FAIL } = require('./helpers/wx')
  let up = false
  wx.__server.on('GET', '/tickets', () => (up ? { items: [ticket({ id: 5, status: 'submitted', status_label: '待受理' })], next_cursor: null } : NETWORK_FAIL))
  const page = await open()
  expect(page.dom.textContent).toContain('网络不好，请稍后再试')
  up = true
  tap(page, '.retry-btn')
  await settle()
  expect(page.querySelectorAll('.task')).toHaveLength(1)
  expect(page.querySelector('.retry-btn')).toBeUndefined()
})
