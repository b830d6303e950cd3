// 议题页：经过用中文说、意见（征求意见期间本单位居民能写，拒绝的原因用中文）、公开的决定与结果、
// 议事会的记名表决、关注 / 取消关注、去投票、办理入口、转发。
const { createWx, NETWORK_FAIL, lastToast, error } = require('./helpers/wx')
const { loadPage, render, settle, tap, text } = require('./helpers/page')
const fx = require('./helpers/fixtures')
const config = require('../src/config')

let pageId
let wx
beforeAll(() => {
  pageId = loadPage('pages/topics/topic')
})

beforeEach(() => {
  wx = createWx()
  global.wx = wx
  config.retryDelayMs = 0
  wx.__server.on('GET', '/topics/:id', answer(fx.topicDetail()))
  wx.__server.on('GET', '/topics/:id/opinions', { items: [fx.opinion(1), fx.opinion(2, { mine: true, reply: '会考虑的' })], next_cursor: null })
})

async function open(id = '7') {
  const page = render(pageId)
  page.instance.onLoad({ id })
  await settle()
  return page
}

// TopicOut 自己有 status 和 body 两个字段，假服务器会把它当成 {status, body} 应答，所以包一层
function answer(topic) {
  return { status: 200, body: topic }
}

function input(page, selector, value) {
  page.querySelector(selector).dispatchEvent('input', { detail: { value } })
}

describe('reading', () => {
  test('the topic, its stage and the whole timeline in plain Chinese', async () => {
    const page = await open()
    expect(text(page, '#title')).toBe('3号楼前空地改成停车位还是小花园')
    expect(text(page, '#stage')).toBe('征求意见')
    expect(text(page, '#solicit')).toBe('征求意见到12月10日 20:00')
    const timeline = text(page, '#timeline')
    expect(timeline).toContain('提出议题（干部）')
    expect(timeline).toContain('开始征求意见')
    expect(timeline).toContain('征求意见到2026年12月10日')
    expect(timeline).toContain('请大家说说')
    expect(timeline.indexOf('提出议题')).toBeLessThan(timeline.indexOf('开始征求意见'))
    expect(wx.setNavigationBarTitle).toHaveBeenCalledWith({ title: '征求意见' })
    // 没有投票、没有办理的动作：没有这两个按钮
    expect(page.querySelector('#open-vote')).toBeUndefined()
    expect(page.querySelector('#open-manage')).toBeUndefined()
  })

  test('a stage\'s attached photos are shown on the timeline and open large', async () => {
    const plan = { id: 31, url: 'https://gz.example.com/media/a.jpg?sig=1', thumbnail_url: 'https://gz.example.com/media/a-thumb.jpg?sig=1' }
    wx.__server.on('GET', '/topics/:id', answer(fx.topicDetail({
      timeline: [fx.topicEvent('solicit', { from_status: 'draft', to_status: 'soliciting', note: '两处候选位置见图', media: [plan] })],
    })))
    const page = await open()
    const shown = page.querySelectorAll('#timeline .photo')
    expect(shown.length).toBe(1)
    shown[0].dispatchEvent('tap')
    await settle()
    expect(wx.previewImage).toHaveBeenCalledWith({ current: plan.url, urls: [plan.url] })
  })

  test('opinions with staff replies; mine is marked', async () => {
    const page = await open()
    expect(text(page, '#opinion-1')).toContain('第1条意见：要小花园')
    expect(text(page, '#opinion-2')).toContain('我写的')
    expect(text(page, '#opinion-2')).toContain('工作人员回复：会考虑的')
  })

  test('the published decision and result, the council sittings with named votes, and the vote', async () => {
    wx.__server.on('GET', '/topics/:id', answer(fx.topicDetail({
      status: 'result_published',
      status_label: '结果已公开',
      passed: true,
      decision_method: 'vote',
      decision: '改成小花园，物业负责施工',
      result: '11月底已建成',
      sessions: [fx.sitting()],
      votes: [9],
      timeline: [
        fx.topicEvent('council', { to_status: 'deliberating', actor_role: 'deputy', data: { session: 3, present: 4, members: 5, yes: 2, passed: false } }),
        fx.topicEvent('put_to_residents', { to_status: 'deciding', data: { method: 'vote', vote: 9 } }),
        fx.topicEvent('decide', { to_status: 'decided', actor_role: 'system', data: { passed: true } }),
      ],
    })))
    const page = await open()
    expect(text(page, '#passed')).toBe('通过')
    expect(text(page, '#decision')).toContain('改成小花园，物业负责施工')
    expect(text(page, '#result')).toContain('11月底已建成')
    expect(text(page, '#method')).toBe('决定方式：网上投票')
    const sitting = text(page, '#session-3')
    expect(sitting).toContain('同意改成小花园')
    expect(sitting).toContain('成员5人，出席4人')
    expect(sitting).toContain('未通过')
    expect(sitting).toContain('张委员：同意')
    expect(sitting).toContain('王委员：反对')
    expect(sitting).toContain('赵委员：弃权')
    const timeline = text(page, '#timeline')
    expect(timeline).toContain('议事会开会表决（人大代表）')
    expect(timeline).toContain('成员5人，出席4人，同意2人，未通过')
    expect(timeline).toContain('交居民决定')
    expect(timeline).toContain('方式：网上投票')
    expect(timeline).toContain('形成决定（系统）')
    // 投票已结束：按钮是看结果
    expect(text(page, '#open-vote')).toBe('看投票结果')
    tap(page, '#open-vote')
    await settle()
    expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/topics/vote?id=9' }))
    // 决定之后不再能写意见
    expect(page.querySelector('#opinion-form')).toBeUndefined()
  })

  test('staff with an action see "办理这个议题"; the original report is one tap away', async () => {
    wx.__server.on('GET', '/topics/:id', answer(fx.topicDetail({ allowed_actions: ['propose', 'reject'] })))
    const page = await open()
    tap(page, '#open-manage')
    await settle()
    expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/topics/manage?id=7' }))
    tap(page, '#open-ticket')
    await settle()
    expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/ticket/ticket?id=12' }))
  })

  test('sharing opens the same page', async () => {
    const page = await open()
    const share = page.instance.onShareAppMessage()
    expect(share.path).toBe('/pages/topics/topic?id=7')
    expect(share.title).toContain('3号楼前空地')
  })

  test('a failure is told and "再试一次" loads again; a missing topic is told in Chinese', async () => {
    let online = false
    wx.__server.on('GET', '/topics/:id', () => (online ? answer(fx.topicDetail()) : NETWORK_FAIL))
    const page = await open()
    await settle(10)
    expect(text(page, '.load-error-text')).toBe('网络不好，请稍后再试')
    online = true
    tap(page, '.retry-btn')
    await settle()
    expect(text(page, '#title')).toContain('3号楼前空地')

    wx.__server.on('GET', '/topics/:id', error(404, 'topic_not_found', '议题不存在'))
    const missing = await open('99')
    expect(text(missing, '.load-error-text')).toBe('没有找到这个议题')
  })

  test('coming back reloads (a step may have been taken); pull-down refreshes', async () => {
    const page = await open()
    page.instance.onShow()
    await settle()
    await page.instance.onPullDownRefresh()
    expect(wx.__server.calls('GET', '/topics/7')).toHaveLength(3)
    expect(wx.stopPullDownRefresh).toHaveBeenCalled()
  })
})

describe('writing an opinion', () => {
  test('sent with an idempotency key and shown at once', async () => {
    wx.__server.on('POST', '/topics/:id/opinions', (req) => ({ status: 201, body: fx.opinion(3, { body: req.data.body, mine: true }) }))
    const page = await open()
    tap(page, '#send-opinion')
    await settle()
    expect(text(page, '#opinion-error')).toBe('请写下您的意见')
    expect(wx.__server.calls('POST', '/topics/7/opinions')).toHaveLength(0)

    input(page, '#opinion-text', '  小花园好，老人能坐坐  ')
    await settle()
    tap(page, '#send-opinion')
    await settle()
    const calls = wx.__server.calls('POST', '/topics/7/opinions')
    expect(calls).toHaveLength(1)
    expect(calls[0].data).toEqual({ body: '小花园好，老人能坐坐' })
    expect(calls[0].header['Idempotency-Key']).toBeTruthy()
    expect(text(page, '#opinion-3')).toContain('小花园好，老人能坐坐')
    expect(page.data.opinionText).toBe('')
    expect(lastToast(wx)).toBe('意见已提交')
  })

  test('with a photo: uploaded first (its own key), then sent with the opinion', async () => {
    wx.__server.on('POST', '/topics/:id/opinions', (req) => ({ status: 201, body: fx.opinion(4, { body: req.data.body, media: [fx.media(1)], held: true, mine: true }) }))
    const page = await open()
    tap(page, '#add-photo')
    await settle()
    expect(wx.chooseMedia).toHaveBeenCalledTimes(1)
    input(page, '#opinion-text', '这块地现在这样')
    await settle()
    tap(page, '#send-opinion')
    await settle()
    expect(wx.__server.calls('POST', '/media')).toHaveLength(1)
    expect(wx.__server.calls('POST', '/topics/7/opinions')[0].data).toEqual({ body: '这块地现在这样', media: [1] })
    expect(page.data.photos).toEqual([])
    expect(page.data.opinions.find((o) => o.id === 4).photos[0].thumb).toBe('http://127.0.0.1:8000/media/2026/10/ab/photo1-thumb.jpg')
    expect(text(page, '#opinion-4')).toContain('审核后公开')
    expect(lastToast(wx)).toBe('已提交，审核后公开')
  })

  test('not a resident of the unit: told in Chinese, with the way to register a home', async () => {
    wx.__server.on('POST', '/topics/:id/opinions', error(403, 'not_a_resident', '只有本单位的居民可以发表意见'))
    const page = await open()
    input(page, '#opinion-text', '我也说一句')
    tap(page, '#send-opinion')
    await settle()
    expect(text(page, '#opinion-error')).toBe('只有本单位登记过住址的居民可以发表意见，请先登记住址')
    tap(page, '#opinion-home')
    await settle()
    expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/topics/home' }))
  })

  test('the window closed meanwhile: told in Chinese, and the page is refreshed', async () => {
    wx.__server.on('POST', '/topics/:id/opinions', error(409, 'not_soliciting', '现在不在征求意见期间'))
    const page = await open()
    wx.__server.on('GET', '/topics/:id', answer(fx.topicDetail({ status: 'proposed', status_label: '支部提议' })))
    input(page, '#opinion-text', '晚了一步')
    tap(page, '#send-opinion')
    await settle()
    expect(lastToast(wx)).toBe('现在不在征求意见期间，不能再写意见了')
    expect(text(page, '#stage')).toBe('支部提议')
    expect(page.querySelector('#opinion-form')).toBeUndefined()
  })

  test('after a network failure, sending again uses the same key', async () => {
    let online = false
    wx.__server.on('POST', '/topics/:id/opinions', () => (online ? { status: 201, body: fx.opinion(3) } : NETWORK_FAIL))
    const page = await open()
    input(page, '#opinion-text', '同意')
    tap(page, '#send-opinion')
    await settle(10)
    expect(text(page, '#opinion-error')).toBe('网络不好，请稍后再试')
    online = true
    tap(page, '#send-opinion')
    await settle()
    const keys = wx.__server.calls('POST', '/topics/7/opinions').map((c) => c.header['Idempotency-Key'])
    expect(new Set(keys).size).toBe(1)
  })
})

describe('staff reply to an opinion', () => {
  test('a staff member replies; the reply shows under the opinion', async () => {
    const cadre = fx.userWith('cadre')
    wx.__storage.gz_user = cadre
    wx.__server.on('POST', '/auth/login', { token: 'tok', expires_at: '2999-01-01T00:00:00+08:00', user: cadre })
    wx.__server.on('POST', '/opinions/:id/reply', (req) => fx.opinion(1, { reply: req.data.reply }))
    const page = await open()
    expect(page.querySelector('#reply-2')).toBeUndefined()
    tap(page, '#reply-1')
    await settle()
    input(page, '#reply-text', '已记下，会在议事会上讨论')
    tap(page, '#reply-send')
    await settle()
    expect(wx.__server.calls('POST', '/opinions/1/reply')[0].data).toEqual({ reply: '已记下，会在议事会上讨论' })
    expect(text(page, '#opinion-1')).toContain('工作人员回复：已记下，会在议事会上讨论')
    expect(page.querySelector('#reply-form')).toBeUndefined()
  })

  test('a resident has no reply button', async () => {
    const page = await open()
    expect(page.querySelector('#reply-1')).toBeUndefined()
  })
})

describe('following', () => {
  test('follow, then unfollow; anyone may', async () => {
    wx.__server.on('POST', '/topics/:id/follow', { status: 204, body: null })
    wx.__server.on('DELETE', '/topics/:id/follow', { status: 204, body: null })
    const page = await open()
    expect(text(page, '#follow')).toBe('关注这个议题')
    tap(page, '#follow')
    await settle()
    expect(wx.__server.calls('POST', '/topics/7/follow')).toHaveLength(1)
    expect(text(page, '#follow')).toBe('已关注（点一下取消）')
    tap(page, '#follow')
    await settle()
    expect(wx.__server.calls('DELETE', '/topics/7/follow')).toHaveLength(1)
    expect(text(page, '#follow')).toBe('关注这个议题')
    expect(lastToast(wx)).toBe('已取消关注')
  })

  test('a failure leaves the state as it was', async () => {
    wx.__server.on('POST', '/topics/:id/follow', error(404, 'topic_not_found', '议题不存在'))
    const page = await open()
    tap(page, '#follow')
    await settle()
    expect(text(page, '#follow')).toBe('关注这个议题')
    expect(lastToast(wx)).toBe('没有找到这个议题')
  })
})
