// 工作人员办理议题：只有 allowed_actions 里的步骤，每步有自己的表（可带照片）；议事会记名表决（名单取自服务器，
// 取不到时按编号填；可带照片）；网上投票的开始、结束、取消；纸质选票。
const { createWx, NETWORK_FAIL, lastToast, error } = require('./helpers/wx')
const { loadPage, render, settle, tap, text } = require('./helpers/page')
const fx = require('./helpers/fixtures')
const config = require('../src/config')
const format = require('../src/utils/format')

let pageId
let wx
beforeAll(() => {
  pageId = loadPage('pages/topics/manage')
})

// TopicOut 自己有 status 和 body 两个字段，包一层免得假服务器当成 {status, body}
function answer(topic, status = 200) {
  return { status, body: topic }
}

let detail
beforeEach(() => {
  wx = createWx()
  global.wx = wx
  config.retryDelayMs = 0
  const head = fx.userWith('unit_head')
  wx.__server.on('POST', '/auth/login', { token: 'tok', expires_at: '2999-01-01T00:00:00+08:00', user: head })
  detail = fx.topicDetail({ status: 'draft', status_label: '草拟', solicit_until: null, allowed_actions: ['solicit', 'propose', 'withdraw'] })
  wx.__server.on('GET', '/topics/:id', () => answer(detail))
  wx.__server.on('POST', '/topics/:id/:action', (req) => answer(fx.topic({ status: 'soliciting', version: 4 })))
})

async function open() {
  const page = render(pageId)
  page.instance.onLoad({ id: '7' })
  await settle()
  return page
}

function input(page, selector, value) {
  page.querySelector(selector).dispatchEvent('input', { detail: { value } })
}

function sent(action) {
  return wx.__server.calls('POST', `/topics/7/${action}`).map((c) => c.data)
}

test('only the steps the server allows are offered', async () => {
  const page = await open()
  expect(page.querySelectorAll('#steps .btn')).toHaveLength(3)
  expect(text(page, '#step-solicit')).toBe('开始征求意见')
  expect(text(page, '#step-propose')).toBe('支部提议')
  expect(text(page, '#step-withdraw')).toBe('撤回议题')
  expect(page.querySelector('#step-decide')).toBeUndefined()
  expect(page.querySelector('#council')).toBeUndefined()

  detail = fx.topicDetail({ status: 'closed', status_label: '已办结', allowed_actions: [] })
  const closed = await open()
  expect(text(closed, '#no-steps')).toContain('没有您能做的一步')
})

test('solicit: an until date (a week ahead by default), with the version', async () => {
  const page = await open()
  tap(page, '#step-solicit')
  await settle()
  const day = format.isoDay(new Date(Date.now() + 7 * 24 * 3600 * 1000))
  expect(text(page, '#until')).toContain(day)
  page.instance.onFormInput({ currentTarget: { dataset: { field: 'until' } }, detail: { value: '2026-12-20' } })
  input(page, '#step-note', '请大家在群里也说说')
  await settle()
  tap(page, '#step-submit')
  await settle()
  expect(sent('solicit')).toEqual([{ until: '2026-12-20T20:00:00+08:00', note: '请大家在群里也说说', version: 3 }])
  expect(lastToast(wx)).toBe('已开始征求意见')
  expect(page.querySelector('#step-form')).toBeUndefined()
  // 做完重新取议题
  expect(wx.__server.calls('GET', '/topics/7')).toHaveLength(2)
})

test('withdraw and reject need a reason', async () => {
  const page = await open()
  tap(page, '#step-withdraw')
  await settle()
  tap(page, '#step-submit')
  await settle()
  expect(text(page, '#step-error')).toBe('请写明理由，居民会看到')
  expect(sent('withdraw')).toEqual([])
  input(page, '#step-text', '业主自行解决了')
  await settle()
  tap(page, '#step-submit')
  await settle()
  expect(sent('withdraw')).toEqual([{ reason: '业主自行解决了', version: 3 }])
})

test('cancel closes the form without sending', async () => {
  const page = await open()
  tap(page, '#step-propose')
  await settle()
  tap(page, '#step-cancel')
  await settle()
  expect(page.querySelector('#step-form')).toBeUndefined()
  expect(wx.__server.calls('POST', /\/topics\//)).toHaveLength(0)
})

test('put to residents: an assembly, or a vote with its settings', async () => {
  detail = fx.topicDetail({ status: 'deliberating', status_label: '议事会商议', allowed_actions: ['put_to_residents', 'decide', 'reject'] })
  const page = await open()
  tap(page, '#step-put_to_residents')
  await settle()
  tap(page, '#step-submit')
  await settle()
  expect(sent('put_to_residents')).toEqual([{ method: 'assembly', note: '', version: 3 }])

  tap(page, '#step-put_to_residents')
  await settle()
  tap(page, '#method-vote')
  await settle()
  input(page, '#vote-options', '改成小花园\n\n改成停车位\n')
  input(page, '#quorum', '60')
  input(page, '#threshold', '66')
  page.instance.onFormInput({ currentTarget: { dataset: { field: 'opensDay' } }, detail: { value: '2026-12-20' } })
  page.instance.onFormInput({ currentTarget: { dataset: { field: 'closesDay' } }, detail: { value: '2026-12-27' } })
  tap(page, '#by-household')
  await settle()
  tap(page, '#step-submit')
  await settle()
  expect(sent('put_to_residents')[1]).toEqual({
    method: 'vote',
    note: '',
    version: 3,
    vote: {
      options: ['改成小花园', '改成停车位'],
      yes_option: 0,
      opens_at: '2026-12-20T08:00:00+08:00',
      closes_at: '2026-12-27T20:00:00+08:00',
      quorum_pct: 60,
      threshold_pct: 66,
      by_household: true,
    },
  })
})

test('a vote needs two options and sensible percentages', async () => {
  detail = fx.topicDetail({ status: 'deliberating', status_label: '议事会商议', allowed_actions: ['put_to_residents'] })
  const page = await open()
  tap(page, '#step-put_to_residents')
  await settle()
  tap(page, '#method-vote')
  await settle()
  input(page, '#vote-options', '只有一个')
  await settle()
  tap(page, '#step-submit')
  await settle()
  expect(text(page, '#step-error')).toBe('投票至少要有两个选项，每行写一个')
  input(page, '#vote-options', '好\n不好')
  input(page, '#threshold', '100')
  await settle()
  tap(page, '#step-submit')
  await settle()
  expect(text(page, '#step-error')).toContain('通过线是 0 到 99')
  expect(sent('put_to_residents')).toEqual([])
})

test('decide: passed or not must be chosen; publish the decision and the result with their text', async () => {
  detail = fx.topicDetail({ status: 'deliberating', status_label: '议事会商议', allowed_actions: ['decide'] })
  const page = await open()
  tap(page, '#step-decide')
  await settle()
  tap(page, '#step-submit')
  await settle()
  expect(text(page, '#step-error')).toBe('请选择通过还是不通过')
  tap(page, '#passed-no')
  await settle()
  tap(page, '#step-submit')
  await settle()
  expect(sent('decide')).toEqual([{ passed: false, note: '', version: 3 }])

  detail = fx.topicDetail({ status: 'decided', status_label: '已决定', passed: true, allowed_actions: ['publish_decision'] })
  const next = await open()
  tap(next, '#step-publish_decision')
  await settle()
  tap(next, '#step-submit')
  await settle()
  expect(text(next, '#step-error')).toBe('请写上决定的内容')
  input(next, '#step-text', '改成小花园')
  await settle()
  tap(next, '#step-submit')
  await settle()
  expect(sent('publish_decision')).toEqual([{ decision: '改成小花园', version: 3 }])
})

test('someone else moved it first (409): told and refreshed', async () => {
  wx.__server.on('POST', '/topics/:id/:action', error(409, 'conflict', '内容已被他人修改，请刷新后重试'))
  const page = await open()
  tap(page, '#step-propose')
  await settle()
  tap(page, '#step-submit')
  await settle()
  expect(lastToast(wx)).toBe('别人刚刚处理过这件事，已为您刷新，请再看一下')
  expect(wx.__server.calls('GET', '/topics/7')).toHaveLength(2)
})

test('a refusal with its own key is said in Chinese (the solicit window)', async () => {
  wx.__server.on('POST', '/topics/:id/:action', error(422, 'invalid_window', '征求意见至少三天、至多六十天'))
  const page = await open()
  tap(page, '#step-solicit')
  await settle()
  tap(page, '#step-submit')
  await settle()
  expect(lastToast(wx)).toContain('征求意见至少三天')
  expect(page.querySelector('#step-form')).toBeDefined()
})

describe('a council sitting', () => {
  const SEATS = [fx.seat(11, '张委员'), fx.seat(12, '李委员'), fx.seat(13, '王委员')]
  let seats
  beforeEach(() => {
    detail = fx.topicDetail({ status: 'deliberating', status_label: '议事会商议', allowed_actions: ['decide'] })
    seats = SEATS
    wx.__server.on('GET', '/council', () => (seats === NETWORK_FAIL ? NETWORK_FAIL : { items: seats }))
    wx.__server.on('POST', '/topics/:id/council', (req) => ({ status: 201, body: fx.sitting({ passed: true }) }))
  })

  async function openCouncil() {
    const page = await open()
    tap(page, '#open-council')
    await settle()
    return page
  }

  test('the unit\'s members are listed when the form opens: present ticked, each votes, sent named by seat', async () => {
    const page = await open()
    expect(page.querySelector('#motion')).toBeUndefined()
    expect(wx.__server.calls('GET', '/council')).toHaveLength(0)
    tap(page, '#open-council')
    await settle()
    expect(wx.__server.calls('GET', '/council').map((c) => c.query)).toEqual([{ unit_id: '4' }])
    expect(text(page, '#present-11')).toBe('张委员（未出席）')
    expect(text(page, '#present-13')).toBe('王委员（未出席）')
    // 有名单就不用按编号填
    expect(page.querySelector('#seat-id')).toBeUndefined()
    expect(page.querySelector('#council-notice')).toBeUndefined()

    tap(page, '#record-session')
    await settle()
    expect(text(page, '#council-error')).toBe('请写上表决的事项（动议）')
    input(page, '#motion', '同意改成小花园')
    await settle()
    tap(page, '#record-session')
    await settle()
    expect(text(page, '#council-error')).toBe('请勾出出席的成员')
    tap(page, '#present-11')
    tap(page, '#present-12')
    await settle()
    expect(text(page, '#present-11')).toBe('✓ 张委员（出席）')
    tap(page, '#record-session')
    await settle()
    expect(text(page, '#council-error')).toBe('每位出席的成员都要选同意、反对或弃权')
    // 王委员没来
    tap(page, '#vote-11-yes')
    tap(page, '#vote-12-abstain')
    await settle()
    expect(page.data.council.members[0].vote).toBe('yes')
    tap(page, '#record-session')
    await settle()
    const calls = wx.__server.calls('POST', '/topics/7/council')
    expect(calls.map((c) => c.data)).toEqual([{ motion: '同意改成小花园', present: [11, 12], votes: { 11: 'yes', 12: 'abstain' }, minutes: '', version: 3 }])
    expect(calls[0].data).not.toHaveProperty('media')
    expect(lastToast(wx)).toBe('表决通过')
    // 下一项动议：出席的还是这些人，表决重新选
    expect(page.data.council.motion).toBe('')
    expect(page.data.council.members.map((m) => [m.id, m.present, m.vote])).toEqual([[11, true, ''], [12, true, ''], [13, false, '']])
    // 服务器的名单不存本机
    expect(wx.__storage.gz_council_4).toBeUndefined()
  })

  test('folding the form keeps what was filled; opening again does not fetch the list twice', async () => {
    const page = await openCouncil()
    input(page, '#motion', '同意改成小花园')
    tap(page, '#present-12')
    await settle()
    tap(page, '#council-cancel')
    await settle()
    expect(page.querySelector('#motion')).toBeUndefined()
    tap(page, '#open-council')
    await settle()
    expect(page.data.council.motion).toBe('同意改成小花园')
    expect(text(page, '#present-12')).toBe('✓ 李委员（出席）')
    expect(wx.__server.calls('GET', '/council')).toHaveLength(1)
  })

  test('an empty list: members added by number, and that list is kept on this phone for next time', async () => {
    seats = []
    const page = await openCouncil()
    expect(text(page, '#council-notice')).toContain('还没有本单位议事会成员的名单')
    expect(page.querySelector('#council-reload')).toBeUndefined()
    input(page, '#motion', '同意改成小花园')
    ;[[11, '张委员'], [12, '李委员'], [13, '王委员']].forEach(([id, name]) => {
      input(page, '#seat-id', String(id))
      input(page, '#seat-name', name)
      tap(page, '#add-seat')
    })
    await settle()
    // 按编号加的算出席
    tap(page, '#present-13')
    tap(page, '#vote-11-yes')
    tap(page, '#vote-12-abstain')
    await settle()
    tap(page, '#record-session')
    await settle()
    expect(wx.__server.calls('POST', '/topics/7/council').map((c) => c.data)).toEqual([{ motion: '同意改成小花园', present: [11, 12], votes: { 11: 'yes', 12: 'abstain' }, minutes: '', version: 3 }])
    expect(wx.__storage.gz_council_4).toEqual([{ id: 11, name: '张委员' }, { id: 12, name: '李委员' }, { id: 13, name: '王委员' }])

    const again = await openCouncil()
    expect(again.data.council.members.map((m) => m.name)).toEqual(['张委员', '李委员', '王委员'])
  })

  test('the list fails to load: told in Chinese, typing numbers still works, and 再取一次名单 brings the list', async () => {
    seats = NETWORK_FAIL
    const page = await openCouncil()
    await settle(10)
    expect(text(page, '#council-notice')).toBe('没取到议事会成员名单（网络不好，请稍后再试），可以再取一次，或按成员编号填写')
    input(page, '#seat-id', '12')
    tap(page, '#add-seat')
    await settle()
    expect(text(page, '#present-12')).toBe('✓ 成员12号（出席）')

    seats = SEATS
    tap(page, '#council-reload')
    await settle()
    expect(page.querySelector('#council-notice')).toBeUndefined()
    expect(page.querySelector('#seat-id')).toBeUndefined()
    // 已经勾的出席留着，名字换成名单上的
    expect(text(page, '#present-12')).toBe('✓ 李委员（出席）')
    expect(text(page, '#present-11')).toBe('张委员（未出席）')
  })

  test('a seat number must be a number and not twice', async () => {
    seats = []
    const page = await openCouncil()
    input(page, '#seat-id', 'abc')
    tap(page, '#add-seat')
    await settle()
    expect(text(page, '#council-error')).toBe('请填成员的编号（数字）')
    input(page, '#seat-id', '11')
    tap(page, '#add-seat')
    input(page, '#seat-id', '11')
    tap(page, '#add-seat')
    await settle()
    expect(text(page, '#council-error')).toBe('这位成员已经在名单上')
    expect(page.data.council.members).toHaveLength(1)
  })

  test('a seat that is not on the council: the refusal in Chinese', async () => {
    wx.__server.on('POST', '/topics/:id/council', error(422, 'invalid_session', '出席和表决的须是本单位议事会成员'))
    seats = []
    const page = await openCouncil()
    input(page, '#motion', '动议')
    input(page, '#seat-id', '99')
    tap(page, '#add-seat')
    await settle()
    tap(page, '#vote-99-no')
    await settle()
    tap(page, '#record-session')
    await settle()
    expect(lastToast(wx)).toBe('出席和表决的须是本单位议事会成员')
  })

  test('photos of the sitting are uploaded first and sent in media, then cleared', async () => {
    const page = await openCouncil()
    tap(page, '#add-photo')
    await settle()
    tap(page, '#add-photo')
    await settle()
    expect(wx.chooseMedia).toHaveBeenCalledTimes(2)
    input(page, '#motion', '同意改成小花园')
    tap(page, '#present-11')
    await settle()
    tap(page, '#vote-11-yes')
    await settle()
    tap(page, '#record-session')
    await settle()
    expect(wx.__server.calls('POST', '/media')).toHaveLength(2)
    expect(wx.__server.calls('POST', '/topics/7/council').map((c) => c.data)).toEqual([{ motion: '同意改成小花园', present: [11], votes: { 11: 'yes' }, minutes: '', version: 3, media: [1, 2] }])
    expect(page.data.photos).toEqual([])
    expect(page.querySelector('#council .photo-failed')).toBeUndefined()
  })

  test('a step opened meanwhile has its own photos; the sitting\'s come back with its form', async () => {
    detail = fx.topicDetail({ status: 'deliberating', status_label: '议事会商议', allowed_actions: ['decide'] })
    const page = await openCouncil()
    tap(page, '#add-photo')
    await settle()
    expect(page.data.photos).toHaveLength(1)
    tap(page, '#step-decide')
    await settle()
    // 一次只开一张表
    expect(page.querySelector('#motion')).toBeUndefined()
    expect(page.data.photos).toEqual([])
    tap(page, '#passed-yes')
    await settle()
    tap(page, '#step-submit')
    await settle()
    expect(sent('decide')).toEqual([{ passed: true, note: '', version: 3 }])
    expect(sent('decide')[0]).not.toHaveProperty('media')
    tap(page, '#open-council')
    await settle()
    expect(page.data.photos.map((p) => [p.id, p.state])).toEqual([[1, 'done']])
  })
  test('a photo still uploading when the form is folded keeps its id for when the form comes back', async () => {
    const page = await openCouncil()
    // 上传先挂着，表收起来以后才传完
    const held = []
    const upload = wx.uploadFile
    wx.uploadFile = jest.fn((opts) => held.push(opts))
    tap(page, '#add-photo')
    await settle()
    expect(held).toHaveLength(1)
    tap(page, '#council-cancel')
    await settle()
    wx.uploadFile = upload
    wx.uploadFile(held[0])
    await settle()
    tap(page, '#open-council')
    await settle()
    expect(page.data.photos.map((p) => [p.id, p.state])).toEqual([[1, 'done']])
    input(page, '#motion', '动议')
    tap(page, '#present-12')
    await settle()
    tap(page, '#vote-12-no')
    await settle()
    tap(page, '#record-session')
    await settle()
    expect(wx.__server.calls('POST', '/media')).toHaveLength(1)
    expect(wx.__server.calls('POST', '/topics/7/council')[0].data.media).toEqual([1])
  })
})

describe('photos with a step', () => {
  test('picked photos are uploaded (each with its own key) and their ids sent with the step, then cleared', async () => {
    const page = await open()
    tap(page, '#step-propose')
    await settle()
    tap(page, '#add-photo')
    await settle()
    tap(page, '#add-photo')
    await settle()
    expect(page.data.photos.map((p) => p.state)).toEqual(['done', 'done'])
    expect(page.querySelectorAll('#step-form .photo')).toHaveLength(3)
    input(page, '#step-note', '支部会议记录见图')
    await settle()
    tap(page, '#step-submit')
    await settle()
    const uploads = wx.__server.calls('POST', '/media')
    expect(uploads).toHaveLength(2)
    expect(uploads[0].header['Idempotency-Key']).not.toBe(uploads[1].header['Idempotency-Key'])
    expect(sent('propose')).toEqual([{ note: '支部会议记录见图', version: 3, media: [1, 2] }])
    expect(lastToast(wx)).toBe('已支部提议')
    expect(page.querySelector('#step-form')).toBeUndefined()
    expect(page.data.photos).toEqual([])
    // 下一步的表从没有照片开始
    tap(page, '#step-withdraw')
    await settle()
    expect(page.data.photos).toEqual([])
  })

  test('a reason step carries photos too; none picked means no media key', async () => {
    const page = await open()
    tap(page, '#step-withdraw')
    await settle()
    input(page, '#step-text', '业主自行解决了')
    await settle()
    tap(page, '#step-submit')
    await settle()
    expect(sent('withdraw')).toEqual([{ reason: '业主自行解决了', version: 3 }])
    expect(sent('withdraw')[0]).not.toHaveProperty('media')
    expect(wx.__server.calls('POST', '/media')).toHaveLength(0)

    tap(page, '#step-withdraw')
    await settle()
    tap(page, '#add-photo')
    await settle()
    input(page, '#step-text', '现场已经清理')
    await settle()
    tap(page, '#step-submit')
    await settle()
    expect(sent('withdraw')[1]).toEqual({ reason: '现场已经清理', version: 3, media: [1] })
  })

  test('an upload that fails keeps the form and says so in Chinese; sending again uploads with the same key', async () => {
    let online = false
    let uploads = 0
    wx.__server.on('POST', '/media', () => {
      if (!online) return NETWORK_FAIL
      uploads += 1
      return { status: 201, body: fx.media(40 + uploads, { width: 1280, height: 960 }) }
    })
    const page = await open()
    tap(page, '#step-propose')
    await settle()
    tap(page, '#add-photo')
    await settle(10)
    input(page, '#step-note', '见图')
    await settle()
    tap(page, '#step-submit')
    await settle(10)
    expect(text(page, '#step-error')).toBe('有照片没传上去（网络不好，请稍后再试），填的内容都还在，请再点一次')
    expect(sent('propose')).toEqual([])
    expect(page.querySelector('#step-form')).toBeDefined()
    expect(page.data.form.note).toBe('见图')
    expect(text(page, '#step-form .photo-failed')).toBe('没传上去')

    online = true
    tap(page, '#step-submit')
    await settle()
    expect(sent('propose')).toEqual([{ note: '见图', version: 3, media: [41] }])
    const keys = new Set(wx.__server.calls('POST', '/media').map((c) => c.header['Idempotency-Key']))
    expect(keys.size).toBe(1)
    expect(page.querySelector('#step-form')).toBeUndefined()
  })

  test('a refused step keeps its photos (already uploaded) for the next try', async () => {
    wx.__server.on('POST', '/topics/:id/:action', error(422, 'invalid_window', '征求意见至少三天、至多六十天'))
    const page = await open()
    tap(page, '#step-solicit')
    await settle()
    tap(page, '#add-photo')
    await settle()
    tap(page, '#step-submit')
    await settle()
    expect(lastToast(wx)).toContain('征求意见至少三天')
    expect(page.data.photos.map((p) => p.id)).toEqual([1])
    wx.__server.on('POST', '/topics/:id/:action', (req) => answer(fx.topic({ status: 'soliciting', version: 4 })))
    tap(page, '#step-submit')
    await settle()
    expect(wx.__server.calls('POST', '/media')).toHaveLength(1)
    expect(sent('solicit')[1].media).toEqual([1])
  })
})

describe('the online vote and paper ballots', () => {
  beforeEach(() => {
    detail = fx.topicDetail({ status: 'deciding', status_label: '居民决策', votes: [9], allowed_actions: [] })
  })

  test('a draft vote is opened; an open one closed after confirming; cancel needs a reason', async () => {
    wx.__server.on('GET', '/votes/:id', fx.vote({ status: 'draft', status_label: '草稿' }))
    wx.__server.on('POST', '/votes/:id/open', fx.vote())
    const page = await open()
    expect(page.querySelector('#close-vote')).toBeUndefined()
    wx.__server.on('GET', '/votes/:id', fx.vote())
    tap(page, '#open-vote')
    await settle()
    expect(wx.__server.calls('POST', '/votes/9/open').map((c) => c.data)).toEqual([{}])
    expect(lastToast(wx)).toBe('投票已开始')

    wx.__server.on('POST', '/votes/:id/close', fx.vote({ status: 'closed', status_label: '已结束', result: fx.voteResult() }))
    tap(page, '#close-vote')
    await settle()
    expect(wx.showModal).toHaveBeenCalledTimes(1)
    expect(wx.__server.calls('POST', '/votes/9/close')).toHaveLength(1)

    wx.__server.on('GET', '/votes/:id', fx.vote())
    await page.instance.load()
    wx.__server.on('POST', '/votes/:id/cancel', fx.vote({ status: 'cancelled', status_label: '已取消' }))
    tap(page, '#cancel-vote')
    await settle()
    expect(lastToast(wx)).toBe('请写明取消投票的理由')
    input(page, '#cancel-reason', '选项写错了')
    await settle()
    tap(page, '#cancel-vote')
    await settle()
    expect(wx.__server.calls('POST', '/votes/9/cancel').map((c) => c.data)).toEqual([{ reason: '选项写错了' }])
  })

  test('closing is not sent when the dialog is cancelled', async () => {
    wx.__server.on('GET', '/votes/:id', fx.vote())
    const page = await open()
    wx.showModal.mockImplementationOnce((opts) => setTimeout(() => opts.success({ confirm: false, cancel: true }), 0))
    tap(page, '#close-vote')
    await settle()
    expect(wx.__server.calls('POST', '/votes/9/close')).toHaveLength(0)
  })

  test('paper ballots: roll number and option; refusals in Chinese', async () => {
    wx.__server.on('GET', '/votes/:id', fx.vote())
    wx.__server.on('POST', '/votes/:id/paper', { status: 204, body: null })
    const page = await open()
    tap(page, '#submit-paper')
    await settle()
    expect(text(page, '#paper-error')).toBe('请填选票上的名册编号（数字）')
    input(page, '#paper-entry', '31')
    tap(page, '#submit-paper')
    await settle()
    expect(text(page, '#paper-error')).toBe('请选这张选票投的选项')
    tap(page, '#paper-option-22')
    await settle()
    tap(page, '#submit-paper')
    await settle()
    expect(wx.__server.calls('POST', '/votes/9/paper').map((c) => c.data)).toEqual([{ entry_id: 31, option_id: 22 }])
    expect(lastToast(wx)).toBe('名册31号的选票已录入')
    expect(page.data.paperEntry).toBe('')

    wx.__server.on('POST', '/votes/:id/paper', error(403, 'not_on_roll', '该户（人）不在本次投票的名册上'))
    input(page, '#paper-entry', '77')
    tap(page, '#paper-option-21')
    await settle()
    tap(page, '#submit-paper')
    await settle()
    expect(text(page, '#paper-error')).toBe('这一户（人）不在本次投票的名册上')

    wx.__server.on('POST', '/votes/:id/paper', error(409, 'already_voted', '该户（人）已经投过票'))
    tap(page, '#submit-paper')
    await settle()
    expect(text(page, '#paper-error')).toContain('已经投过票了')
  })
})

test('a failure to load is told and "再试一次" loads again', async () => {
  let online = false
  wx.__server.on('GET', '/topics/:id', () => (online ? answer(detail) : NETWORK_FAIL))
  const page = await open()
  await settle(10)
  expect(text(page, '.load-error-text')).toBe('网络不好，请稍后再试')
  online = true
  tap(page, '.retry-btn')
  await settle()
  expect(text(page, '#step-propose')).toBe('支部提议')
})
