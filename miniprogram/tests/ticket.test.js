// 反映详情：时间线按先后、中文状态；照片；评价；工作人员的操作按钮；有人先改过时刷新。
const { createWx, lastToast } = require('./helpers/wx')
const { loadPage, render, settle, tap, text } = require('./helpers/page')
const { ticket, event, media, error } = Object.assign({}, require('./helpers/fixtures'), require('./helpers/wx'))
const config = require('../src/config')

const HOST = 'http://127.0.0.1:8000'

const EVENTS = [
  // 故意打乱顺序：页面要按时间排。actor.display 是服务器写好的说法。
  event({ id: 3, action: 'assign', from_status: 'accepted', to_status: 'assigned', to_status_label: '已派单', actor: { role: 'cadre', display: '干部' }, note: '请李师傅今天处理', at: '2026-10-01T02:00:00+00:00' }),
  event({ id: 1, action: 'report', from_status: null, to_status: 'submitted', to_status_label: '待受理', actor: { role: 'reporter', display: '反映人（我）' }, media: [media(1)], at: '2026-10-01T00:00:00+00:00' }),
  event({ id: 4, action: 'resolve', from_status: 'assigned', to_status: 'resolved', to_status_label: '已办结', actor: { role: 'assignee', display: '承办人' }, note: '已更换灯泡', media: [media(5)], at: '2026-10-02T08:30:00+00:00' }),
  event({ id: 2, action: 'accept', from_status: 'submitted', to_status: 'accepted', to_status_label: '已受理', actor: { role: 'grid_worker', display: '网格员' }, at: '2026-10-01T01:00:00+00:00' }),
]

let pageId
let wx
beforeAll(() => {
  pageId = loadPage('pages/ticket/ticket')
})

beforeEach(() => {
  wx = createWx()
  global.wx = wx
  config.retryDelayMs = 0
  wx.__server.on('GET', '/tickets/1', ticket())
  wx.__server.on('GET', '/tickets/1/events', { items: EVENTS, next_cursor: null })
})

async function open() {
  const page = render(pageId)
  page.instance.onLoad({ id: '1' })
  await settle()
  return page
}

test('the timeline lists events in time order with Chinese labels', async () => {
  const page = await open()
  const titles = page.querySelectorAll('.event-title').map((n) => n.dom.textContent.trim())
  expect(titles).toEqual(['提交反映→ 待受理', '受理→ 已受理', '派单→ 已派单', '办结答复→ 已办结'])
  const events = page.querySelectorAll('.event').map((n) => n.dom.textContent)
  // 谁做的：用服务器写好的说法，不再自己拼岗位（不会出现“网格员 网格员”）
  expect(events[0]).toContain('反映人（我）')
  expect(events[1]).toContain('网格员')
  expect(events[1]).not.toContain('网格员 网格员')
  expect(events[2]).toContain('请李师傅今天处理')
  expect(events[3]).toContain('10月2日 16:30')
  expect(events[3]).toContain('承办人')
  // 办结时的照片也在时间线上，地址补上了服务器的主机
  expect(page.data.events[3].media).toEqual([
    { id: 5, url: HOST + '/media/2026/10/ab/photo5.jpg', thumb: HOST + '/media/2026/10/ab/photo5-thumb.jpg' },
  ])
})

test('every action the server writes on the timeline has its own Chinese name', async () => {
  const actions = ['report', 'accept', 'return', 'transfer', 'withdraw', 'propose', 'assign', 'progress', 'resolve', 'redo', 'rate', 'close', 'escalate', 'merge']
  wx.__server.on('GET', '/tickets/1/events', {
    items: actions.map((action, i) => event({ id: i + 1, action, at: `2026-10-01T0${Math.floor(i / 10)}:${10 + (i % 10)}:00+00:00` })),
    next_cursor: null,
  })
  const page = await open()
  const titles = page.data.events.map((e) => e.title)
  expect(titles).toHaveLength(actions.length)
  expect(titles).not.toContain('处理') // 不认识的动作才会落到“处理”
  expect(new Set(titles).size).toBe(actions.length)
})

test('a return, a dissatisfied rating and an escalation say why on the timeline', async () => {
  wx.__server.on('GET', '/tickets/1/events', {
    items: [
      event({ id: 1, action: 'redo', from_status: 'resolved', to_status: 'assigned', to_status_label: '已派单', note: '还是不亮', data: { rating: 'dissatisfied', redo: true }, at: '2026-10-03T00:00:00+00:00' }),
      event({ id: 2, action: 'escalate', from_status: 'assigned', to_status: 'assigned', to_status_label: '已派单', actor: { role: 'system', display: '系统' }, note: '已超过时限，转上级督办', data: { late: 'resolve' }, at: '2026-10-04T00:00:00+00:00' }),
      event({ id: 3, action: 'return', from_status: 'assigned', to_status: 'returned', to_status_label: '已退回', actor: { role: 'grid_worker', display: '网格员' }, data: { reason: 'duplicate', duplicate_of: 9 }, at: '2026-10-05T00:00:00+00:00' }),
    ],
    next_cursor: null,
  })
  const page = await open()
  const events = page.querySelectorAll('.event').map((n) => n.dom.textContent)
  expect(events[0]).toContain('不满意，重新办理')
  expect(events[0]).toContain('不满意')
  expect(events[0]).toContain('还是不亮')
  expect(events[1]).toContain('超时，上级督办')
  expect(events[1]).toContain('超过了办结时限')
  // 状态没变的那一步不写“→ 状态”
  expect(page.data.events[1].statusLabel).toBe('')
  expect(events[2]).toContain('原因：重复反映')
  expect(events[2]).toContain('与第9号反映重复')
})

test('the timeline follows next_cursor to the following page', async () => {
  wx.__server.on('GET', '/tickets/1/events', (req) =>
    req.query.cursor === 'p2'
      ? { items: [EVENTS[2]], next_cursor: null }
      : { items: [EVENTS[1], EVENTS[3]], next_cursor: 'p2' }
  )
  const page = await open()
  expect(page.data.events.map((e) => e.id)).toEqual([1, 2, 4])
})

test('shows the status, the unit, the assignee and the photos (server paths made absolute)', async () => {
  const page = await open()
  expect(text(page, '#status')).toBe('已办结')
  expect(page.dom.textContent).toContain('花桥社区')
  expect(page.dom.textContent).toContain('李师傅')
  expect(page.dom.textContent).toContain('社区书记 郑书记')
  expect(page.data.photos).toEqual([
    { id: 1, url: HOST + '/media/2026/10/ab/photo1.jpg', thumb: HOST + '/media/2026/10/ab/photo1-thumb.jpg' },
  ])
  expect(page.dom.querySelector('wx-image').getAttribute('data-url')).toBe(HOST + '/media/2026/10/ab/photo1.jpg')
  expect(wx.setNavigationBarTitle).toHaveBeenCalledWith({ title: '路灯损坏 · 已办结' })
})

test('a report held for review tells its reporter so', async () => {
  wx.__server.on('GET', '/tickets/1', ticket({ status: 'submitted', status_label: '待受理', held: true, allowed_actions: ['withdraw'] }))
  const page = await open()
  expect(text(page, '#held')).toBe('这条反映正在审核，审核通过后才对别人公开')
})

test('a returned report says why', async () => {
  wx.__server.on('GET', '/tickets/1', ticket({ status: 'returned', status_label: '已退回', return_reason: 'duplicate', duplicate_of: 9, allowed_actions: [] }))
  const page = await open()
  expect(text(page, '#return-reason')).toBe('退回原因：重复反映（与第9号反映重复）')
})

test('"me too" on someone else\'s open report: shown when the server allows "support"', async () => {
  wx.__server.on('GET', '/tickets/1', ticket({ status: 'accepted', status_label: '已受理', reporter: { display: '群众' }, allowed_actions: ['support'] }))
  wx.__server.on('POST', '/tickets/1/support', { supporters: 3 })
  const page = await open()
  expect(page.querySelector('#rate-box')).toBeUndefined()
  tap(page, '#support')
  await settle()
  const calls = wx.__server.calls('POST', '/tickets/1/support')
  expect(calls).toHaveLength(1)
  expect(calls[0].header['Idempotency-Key']).toBeTruthy()
  expect(page.dom.textContent).toContain('3人也遇到了')
  expect(page.querySelector('#support')).toBeUndefined()
})

test('the reporter can withdraw a report nobody has taken up yet', async () => {
  wx.__server.on('GET', '/tickets/1', ticket({ status: 'submitted', status_label: '待受理', allowed_actions: ['withdraw'], version: 1 }))
  wx.__server.on('POST', '/tickets/1/withdraw', ticket({ status: 'withdrawn', status_label: '已撤回', allowed_actions: [], version: 2 }))
  const page = await open()
  tap(page, '#withdraw')
  await settle()
  expect(wx.__server.calls('POST', '/tickets/1/withdraw')[0].data).toEqual({ version: 1 })
  expect(lastToast(wx)).toBe('已撤回')
})

test('a resident sees no staff buttons', async () => {
  const page = await open()
  expect(page.querySelector('#action-accept')).toBeUndefined()
  expect(page.data.staffActions).toEqual([])
})

describe('rating', () => {
  test('without a choice nothing is sent and a Chinese message says why', async () => {
    const page = await open()
    tap(page, '#submit-rating')
    await settle()
    expect(text(page, '#rate-error')).toBe('请先选满意、基本满意或不满意')
    expect(wx.__server.calls('POST', '/tickets/1/rate')).toHaveLength(0)
  })

  test('dissatisfied needs a comment', async () => {
    const page = await open()
    tap(page, '#rating-dissatisfied')
    await settle()
    tap(page, '#submit-rating')
    await settle()
    expect(text(page, '#rate-error')).toBe('请说说哪里不满意，我们好改进')
    expect(wx.__server.calls('POST', '/tickets/1/rate')).toHaveLength(0)
  })

  test('sends the rating with the comment and the version, then shows it', async () => {
    wx.__server.on('POST', '/tickets/1/rate', (req) =>
      ticket({ status: 'closed', status_label: '已关闭', allowed_actions: [], rating: { rating: req.data.rating, label: '基本满意', comment: req.data.comment, at: '2026-10-03T00:00:00+00:00' } })
    )
    const page = await open()
    tap(page, '#rating-basically_satisfied')
    page.querySelector('#comment').dispatchEvent('input', { detail: { value: '修好了，就是慢了点' } })
    await settle()
    tap(page, '#submit-rating')
    await settle()
    const calls = wx.__server.calls('POST', '/tickets/1/rate')
    expect(calls).toHaveLength(1)
    expect(calls[0].data).toEqual({ rating: 'basically_satisfied', comment: '修好了，就是慢了点', version: 4 })
    expect(calls[0].header['Idempotency-Key']).toBeTruthy()
    expect(page.querySelector('#rate-box')).toBeUndefined()
    expect(text(page, '#rated')).toContain('基本满意')
    expect(text(page, '#rated')).toContain('修好了，就是慢了点')
    expect(lastToast(wx)).toBe('谢谢您的评价')
  })

  test('the first "dissatisfied" sends it back to be redone, and says so', async () => {
    wx.__server.on('POST', '/tickets/1/rate', ticket({ status: 'assigned', status_label: '已派单', redo: true, redo_count: 1, rating: null, allowed_actions: [], version: 5 }))
    const page = await open()
    tap(page, '#rating-dissatisfied')
    page.querySelector('#comment').dispatchEvent('input', { detail: { value: '还是不亮' } })
    await settle()
    tap(page, '#submit-rating')
    await settle()
    expect(lastToast(wx)).toBe('已请他们重新办理')
    expect(text(page, '#status')).toBe('已派单')
    expect(page.querySelector('#rate-box')).toBeUndefined()
    expect(page.dom.textContent).toContain('重新办理')
  })

  test('a conflict reloads the ticket and tells the user', async () => {
    wx.__server.on('POST', '/tickets/1/rate', error(409, 'conflict', '内容已被他人修改，请刷新后重试'))
    const page = await open()
    const loadsBefore = wx.__server.calls('GET', '/tickets/1').length
    tap(page, '#rating-satisfied')
    await settle()
    tap(page, '#submit-rating')
    await settle()
    expect(lastToast(wx)).toBe('别人刚刚处理过这件事，已为您刷新，请再看一下')
    expect(wx.__server.calls('GET', '/tickets/1').length).toBe(loadsBefore + 1)
  })

  test('a step no longer possible (invalid_transition) shows the server\'s sentence and reloads', async () => {
    wx.__server.on('POST', '/tickets/1/rate', error(409, 'invalid_transition', '当前状态（已关闭）不能进行此操作'))
    const page = await open()
    const loadsBefore = wx.__server.calls('GET', '/tickets/1').length
    tap(page, '#rating-satisfied')
    await settle()
    tap(page, '#submit-rating')
    await settle()
    expect(lastToast(wx)).toBe('当前状态（已关闭）不能进行此操作')
    expect(wx.__server.calls('GET', '/tickets/1').length).toBe(loadsBefore + 1)
  })
})

describe('staff actions', () => {
  test('buttons follow allowed_actions; accept asks first and sends the version', async () => {
    // 网格员看一条待受理的反映时，服务器给的就是这几个（support：不是自己反映的）
    wx.__server.on('GET', '/tickets/1', ticket({ status: 'submitted', status_label: '待受理', allowed_actions: ['accept', 'return', 'transfer', 'support'] }))
    wx.__server.on('POST', '/tickets/1/accept', ticket({ status: 'accepted', status_label: '已受理' }))
    const page = await open()
    expect(page.querySelectorAll('.staff-actions .btn').map((b) => b.dom.textContent.trim())).toEqual(['受理', '转给其他单位', '退回'])
    expect(page.querySelector('#support')).toBeDefined()
    tap(page, '#action-accept')
    await settle()
    expect(wx.showModal).toHaveBeenCalledTimes(1)
    const calls = wx.__server.calls('POST', '/tickets/1/accept')
    expect(calls).toHaveLength(1)
    expect(calls[0].data).toEqual({ version: 4, note: '' })
    expect(lastToast(wx)).toBe('已受理')
  })

  test('cancelling the confirmation sends nothing', async () => {
    wx.__server.on('GET', '/tickets/1', ticket({ status: 'submitted', status_label: '待受理', allowed_actions: ['accept'] }))
    wx.showModal.mockImplementation((opts) => setTimeout(() => opts.success({ confirm: false, cancel: true }), 0))
    const page = await open()
    tap(page, '#action-accept')
    await settle()
    expect(wx.__server.calls('POST', '/tickets/1/accept')).toHaveLength(0)
  })

  test('resolve opens the handling page', async () => {
    wx.__server.on('GET', '/tickets/1', ticket({ status: 'in_progress', status_label: '办理中', allowed_actions: ['progress', 'resolve', 'transfer'] }))
    const page = await open()
    tap(page, '#action-resolve')
    await settle()
    expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/handle/handle?id=1&action=resolve' }))
    tap(page, '#action-transfer')
    await settle()
    expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/handle/handle?id=1&action=transfer' }))
  })
})

test('a missing ticket shows a Chinese message', async () => {
  wx.__server.on('GET', '/tickets/1', error(404, 'ticket_not_found', '问题不存在'))
  const page = await open()
  expect(page.dom.textContent).toContain('问题不存在')
})
