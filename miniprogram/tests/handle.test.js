// 工作人员办理：办结必须有照片和说明；退回要选原因；派单要选人；有人先改过就刷新并提示。
const { createWx, NETWORK_FAIL, lastToast, error } = require('./helpers/wx')
const { loadPage, render, settle, tap, text } = require('./helpers/page')
const { ticket, staffMember, UNIT_BRIEF } = require('./helpers/fixtures')
const config = require('../src/config')

let pageId
let wx
beforeAll(() => {
  pageId = loadPage('pages/handle/handle')
})

beforeEach(() => {
  wx = createWx()
  global.wx = wx
  config.retryDelayMs = 0
  wx.__server.on('GET', '/tickets/1', ticket({ status: 'in_progress', status_label: '办理中', allowed_actions: ['progress', 'resolve', 'transfer'], version: 6 }))
})

async function open(action) {
  const page = render(pageId)
  page.instance.onLoad({ id: '1', action })
  await settle()
  return page
}

function writeNote(page, value) {
  page.querySelector('#note').dispatchEvent('input', { detail: { value } })
}

describe('resolve', () => {
  test('without a photo it is refused on the phone and nothing is sent', async () => {
    const page = await open('resolve')
    writeNote(page, '已更换灯泡，恢复照明')
    await settle()
    tap(page, '#submit')
    await settle()
    expect(text(page, '#form-error')).toBe('请至少拍一张办理结果的照片')
    expect(lastToast(wx)).toBe('请至少拍一张办理结果的照片')
    expect(wx.__server.calls('POST', '/tickets/1/resolve')).toHaveLength(0)
  })

  test('without a note it is refused too', async () => {
    const page = await open('resolve')
    tap(page, '#add-photo')
    await settle()
    tap(page, '#submit')
    await settle()
    expect(text(page, '#form-error')).toBe('请写一下是怎么解决的')
    expect(wx.__server.calls('POST', '/tickets/1/resolve')).toHaveLength(0)
  })

  test('with a photo and a note: uploads, sends note + media + version, goes back', async () => {
    wx.__server.on('POST', '/tickets/1/resolve', ticket({ status: 'resolved', status_label: '已办结', version: 7, allowed_actions: [] }))
    const page = await open('resolve')
    expect(wx.setNavigationBarTitle).toHaveBeenCalledWith({ title: '办结答复' })
    tap(page, '#add-photo')
    await settle()
    writeNote(page, '已更换灯泡，恢复照明')
    await settle()
    tap(page, '#submit')
    await settle()
    const calls = wx.__server.calls('POST', '/tickets/1/resolve')
    expect(calls).toHaveLength(1)
    expect(calls[0].data).toEqual({ note: '已更换灯泡，恢复照明', media: [1], version: 6 })
    expect(calls[0].header['Idempotency-Key']).toBeTruthy()
    expect(lastToast(wx)).toBe('已提交')
    await new Promise((r) => setTimeout(r, 900))
    expect(wx.navigateBack).toHaveBeenCalled()
  })

  test('after a network failure, trying again sends the same key', async () => {
    let online = false
    wx.__server.on('POST', '/tickets/1/resolve', () => (online ? ticket({ status: 'resolved', status_label: '已办结' }) : NETWORK_FAIL))
    const page = await open('resolve')
    tap(page, '#add-photo')
    await settle()
    writeNote(page, '已修好')
    await settle()
    tap(page, '#submit')
    await settle()
    expect(lastToast(wx)).toBe('网络不好，请稍后再试')
    online = true
    tap(page, '#submit')
    await settle()
    const keys = wx.__server.calls('POST', '/tickets/1/resolve').map((c) => c.header['Idempotency-Key'])
    expect(keys.length).toBe(config.networkRetries + 2)
    expect(new Set(keys).size).toBe(1)
  })

  test('if someone changed it first (409), the user is told and the ticket reloaded', async () => {
    wx.__server.on('POST', '/tickets/1/resolve', error(409, 'conflict', '内容已被他人修改，请刷新后重试'))
    const page = await open('resolve')
    tap(page, '#add-photo')
    await settle()
    writeNote(page, '已修好')
    await settle()
    tap(page, '#submit')
    await settle()
    expect(lastToast(wx)).toBe('别人刚刚处理过这件事，已为您刷新，请再看一下')
    expect(wx.__server.calls('GET', '/tickets/1')).toHaveLength(2)
    expect(wx.navigateBack).not.toHaveBeenCalled()
  })
})

describe('progress', () => {
  test('photos are optional, a note is not', async () => {
    wx.__server.on('POST', '/tickets/1/progress', ticket({ status: 'in_progress', status_label: '办理中' }))
    const page = await open('progress')
    tap(page, '#submit')
    await settle()
    expect(text(page, '#form-error')).toBe('请写一下现在的进展')
    writeNote(page, '灯泡已订货，明天到')
    await settle()
    tap(page, '#submit')
    await settle()
    expect(wx.__server.calls('POST', '/tickets/1/progress')[0].data).toEqual({ note: '灯泡已订货，明天到', media: [], version: 6 })
  })
})

describe('return', () => {
  beforeEach(() => {
    wx.__server.on('GET', '/tickets/1', ticket({ status: 'submitted', status_label: '待受理', allowed_actions: ['accept', 'return', 'transfer'], version: 2 }))
    wx.__server.on('POST', '/tickets/1/return', ticket({ status: 'returned', status_label: '已退回', return_reason: 'duplicate', allowed_actions: [] }))
  })

  test('needs a reason, and a number for a duplicate', async () => {
    const page = await open('return')
    expect(page.querySelectorAll('.choice').map((c) => c.dom.textContent.trim())).toEqual(['不归我们管', '重复反映', '信息不够，请补充', '情况不属实'])
    tap(page, '#submit')
    await settle()
    expect(text(page, '#form-error')).toBe('请选择退回的原因')
    tap(page, '#reason-duplicate')
    await settle()
    tap(page, '#submit')
    await settle()
    expect(text(page, '#form-error')).toBe('请填写重复的那条反映的编号')
    expect(wx.__server.calls('POST', '/tickets/1/return')).toHaveLength(0)

    // 编号是服务器的整数 id
    page.querySelector('#duplicate-of').dispatchEvent('input', { detail: { value: ' t0 ' } })
    await settle()
    tap(page, '#submit')
    await settle()
    expect(text(page, '#form-error')).toBe('编号只能是数字，例如 12')
    expect(wx.__server.calls('POST', '/tickets/1/return')).toHaveLength(0)

    page.querySelector('#duplicate-of').dispatchEvent('input', { detail: { value: ' 12 ' } })
    writeNote(page, '同一盏灯昨天已有人反映')
    await settle()
    tap(page, '#submit')
    await settle()
    expect(wx.__server.calls('POST', '/tickets/1/return')[0].data).toEqual({
      reason: 'duplicate',
      duplicate_of: 12,
      note: '同一盏灯昨天已有人反映',
      version: 2,
    })
  })

  test('out of scope sends the reason and the note', async () => {
    const page = await open('return')
    tap(page, '#reason-out_of_scope')
    writeNote(page, '属于供电公司，请拨95598')
    await settle()
    tap(page, '#submit')
    await settle()
    // 不是重复就不带 duplicate_of（服务器不收 null）
    expect(wx.__server.calls('POST', '/tickets/1/return')[0].data).toEqual({
      reason: 'out_of_scope',
      note: '属于供电公司，请拨95598',
      version: 2,
    })
  })

  test('a topic (deliberating) can only be "not adopted", with a reason written out', async () => {
    wx.__server.on('GET', '/tickets/1', ticket({ status: 'deliberating', status_label: '议题中', allowed_actions: ['assign', 'return', 'support'], version: 3 }))
    const page = await open('return')
    expect(page.querySelectorAll('.choice').map((c) => c.dom.textContent.trim())).toEqual(['不予采纳'])
    tap(page, '#submit')
    await settle()
    expect(text(page, '#form-error')).toBe('不予采纳要写明理由，会公开给反映人')
    writeNote(page, '经代表议定，暂不具备条件')
    await settle()
    tap(page, '#submit')
    await settle()
    expect(wx.__server.calls('POST', '/tickets/1/return')[0].data).toEqual({
      reason: 'not_adopted',
      note: '经代表议定，暂不具备条件',
      version: 3,
    })
  })
})

describe('transfer', () => {
  test('picks another unit and needs a reason', async () => {
    wx.__server.on('GET', '/tickets/1', ticket({ status: 'submitted', status_label: '待受理', allowed_actions: ['accept', 'return', 'transfer'], version: 2 }))
    wx.__server.on('GET', '/units', {
      items: [
        UNIT_BRIEF,
        { id: 5, code: 'gz-demo-hq-2', name: '桃源社区', kind: 'community', kind_label: '社区', parent_id: 2, depth: 2 },
        { id: 2, code: 'gz-demo-hq', name: '花桥街道', kind: 'street', kind_label: '街道', parent_id: 1, depth: 1 },
      ],
      next_cursor: null,
    })
    wx.__server.on('POST', '/tickets/1/transfer', ticket({ status: 'submitted', status_label: '待受理', unit: { id: 5, code: 'gz-demo-hq-2', name: '桃源社区' }, allowed_actions: [] }))
    const page = await open('transfer')
    expect(wx.setNavigationBarTitle).toHaveBeenCalledWith({ title: '转给其他单位' })
    // 现在的单位不在可选之列
    expect(page.data.units.map((u) => u.name)).toEqual(['桃源社区', '花桥街道'])
    tap(page, '#submit')
    await settle()
    expect(text(page, '#form-error')).toBe('请选择转给哪个单位')
    page.instance.onPickUnit({ detail: { value: '0' } })
    await settle()
    expect(text(page, '#pick-unit')).toBe('桃源社区')
    tap(page, '#submit')
    await settle()
    expect(text(page, '#form-error')).toBe('请写一下为什么转给这个单位')
    writeNote(page, '在桃源社区的范围内')
    await settle()
    tap(page, '#submit')
    await settle()
    expect(wx.__server.calls('POST', '/tickets/1/transfer')[0].data).toEqual({ unit_id: 5, reason: '在桃源社区的范围内', version: 2 })
  })
})

describe('assign', () => {
  test('loads the unit staff, needs a person, sends assignee, deadline and priority', async () => {
    wx.__server.on('GET', '/tickets/1', ticket({ status: 'accepted', status_label: '已受理', allowed_actions: ['assign', 'propose', 'resolve'], version: 3 }))
    const compound = { id: 8, code: 'gz-demo-hq-1-1', name: '花桥社区一区', kind: 'compound', kind_label: '小区', parent_id: 4, depth: 3 }
    wx.__server.on('GET', '/units/4/staff', {
      items: [staffMember(2, '李师傅', 'grid_worker'), staffMember(3, '赵干事', 'cadre'), staffMember(9, '孙师傅', 'grid_worker', compound)],
    })
    wx.__server.on('POST', '/tickets/1/assign', ticket({ status: 'assigned', status_label: '已派单' }))
    const page = await open('assign')
    expect(page.dom.textContent).toContain('李师傅（网格员）')
    // 下级单位的人标上单位
    expect(page.dom.textContent).toContain('孙师傅（网格员，花桥社区一区）')
    tap(page, '#submit')
    await settle()
    expect(text(page, '#form-error')).toBe('请选择办理人')

    page.querySelectorAll('.choice').find((c) => c.dom.textContent.includes('赵干事')).dispatchEvent('tap')
    page.querySelectorAll('.priority')[1].dispatchEvent('tap')
    await settle()
    page.instance.onDueChange({ detail: { value: '2026-10-09' } })
    tap(page, '#submit')
    await settle()
    expect(wx.__server.calls('POST', '/tickets/1/assign')[0].data).toEqual({
      assignee_id: 3,
      priority: 'urgent',
      note: '',
      due_at: '2026-10-09T23:59:00+08:00',
      version: 3,
    })
  })
})

test('a ticket that failed to load offers 再试一次, and the form appears', async () => {
  let up = false
  wx.__server.on('GET', '/tickets/1', () => (up ? ticket({ status: 'in_progress', status_label: '办理中', allowed_actions: ['progress'], version: 6 }) : NETWORK_FAIL))
  const page = await open('progress')
  expect(page.querySelector('#note')).toBeUndefined()
  up = true
  tap(page, '.retry-btn')
  await settle()
  expect(page.querySelector('#note')).toBeDefined()
})
