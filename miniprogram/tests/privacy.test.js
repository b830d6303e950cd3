// 我的数据与隐私：同意过的隐私指引、导出（摘要、复制、发文件）、注销账号（两次确认、清掉本机、回首页）。
const { createWx, NETWORK_FAIL, USER, lastToast, error } = require('./helpers/wx')
const { loadPage, render, settle, tap, text } = require('./helpers/page')
const { consent, exportData } = require('./helpers/fixtures')
const config = require('../src/config')
const session = require('../src/utils/session')
const api = require('../src/utils/api')

let pageId
let wx
beforeAll(() => {
  pageId = loadPage('pages/privacy/privacy')
})

beforeEach(() => {
  wx = createWx({ storage: { gz_token: 'tok-0', gz_token_expires: '2999-01-01T00:00:00+08:00', gz_user: USER, gz_sub_templates: { at: 1, templates: [] } } })
  global.wx = wx
  config.retryDelayMs = 0
  session.clearSignedOut()
})

afterAll(() => {
  session.clearSignedOut()
})

async function open() {
  const page = render(pageId)
  page.instance.onLoad({})
  await settle()
  return page
}

// 下一次 wx.showModal 点“取消”
function cancelNextModal() {
  wx.showModal.mockImplementationOnce((opts) => {
    setTimeout(() => opts.success && opts.success({ errMsg: 'showModal:ok', confirm: false, cancel: true }), 0)
  })
}

describe('the privacy policy', () => {
  test('shows the version agreed and when', async () => {
    wx.__server.on('GET', '/me/consent', consent(true))
    const page = await open()
    expect(text(page, '#consent-text')).toBe('您已同意《用户隐私保护指引》（2026-11版）')
    expect(text(page, '#consent-time')).toBe('同意时间：10月1日 08:00')
  })

  test('without a time from the server, no time line is made up', async () => {
    wx.__server.on('GET', '/me/consent', consent(true, { accepted_at: null }))
    const page = await open()
    expect(text(page, '#consent-text')).toContain('您已同意')
    expect(page.querySelector('#consent-time')).toBeUndefined()
  })

  test('not yet agreed to the current version: says so; the policy can be opened', async () => {
    wx.__server.on('GET', '/me/consent', consent(false, { policy_version: '2026-12', current_version: '2026-12' }))
    const page = await open()
    expect(text(page, '#consent-text')).toBe('您还没有同意当前的《用户隐私保护指引》（2026-12版）。第一次反映问题时会请您阅读并同意。')
    tap(page, '#open-policy')
    await settle()
    expect(wx.openPrivacyContract).toHaveBeenCalled()
  })

  test('a server error is shown in Chinese, with 再试一次', async () => {
    let up = false
    wx.__server.on('GET', '/me/consent', () => (up ? consent(true) : error(503, 'service_unavailable', '服务暂时不可用，请稍后再试')))
    const page = await open()
    expect(text(page, '#consent-error .load-error-text')).toBe('服务暂时不可用，请稍后再试')
    up = true
    tap(page, '#consent-error .retry-btn')
    await settle()
    expect(page.querySelector('#consent-error')).toBeUndefined()
    expect(page.querySelector('#consent-text')).toBeDefined()
  })
})

describe('export my data', () => {
  test('shows a summary: reports, ratings, photos and the rest', async () => {
    wx.__server.on('GET', '/me/export', exportData())
    const page = await open()
    expect(page.querySelector('#export-summary')).toBeUndefined()
    tap(page, '#export')
    await settle()
    expect(wx.__server.calls('GET', '/me/export')).toHaveLength(1)
    expect(text(page, '#count-tickets')).toBe('2条')
    expect(text(page, '#count-ratings')).toBe('1条')
    expect(text(page, '#count-photos')).toBe('3张')
    expect(text(page, '#count-supports')).toBe('0次')
    expect(text(page, '#count-notifications')).toBe('1条')
    const summary = text(page, '#export-summary')
    expect(summary).toContain('已导出（11月20日 10:30）')
    expect(summary).toContain('同意隐私保护指引（2026-11版）：10月1日 08:00')
    // 全部内容只在内存里，不进界面数据，也不进本机缓存
    expect(JSON.stringify(page.data)).not.toContain('13800000000')
    expect(JSON.stringify(wx.__storage)).not.toContain('13800000000')
  })

  test('copy puts the whole JSON on the clipboard, photos by their addresses', async () => {
    wx.__server.on('GET', '/me/export', exportData())
    const page = await open()
    tap(page, '#export')
    await settle()
    tap(page, '#copy')
    await settle()
    expect(wx.setClipboardData).toHaveBeenCalledTimes(1)
    const copied = JSON.parse(wx.setClipboardData.mock.calls[0][0].data)
    expect(copied.tickets.map((t) => t.id)).toEqual([1, 5])
    expect(copied.user.phone).toBe('13800000000')
    expect(copied.photos).toHaveLength(3)
    expect(copied.photos[0].url).toMatch(/\/media\/2026\/10\/1\.jpg\?exp=/)
    expect(lastToast(wx)).toBe('已复制，可以粘贴到别处')
  })

  test('send the file: the whole JSON (photos included) is written and shared, then removed', async () => {
    wx.__server.on('GET', '/me/export', exportData())
    const page = await open()
    tap(page, '#export')
    await settle()
    const written = {}
    wx.getFileSystemManager.mockImplementation(() => ({
      writeFileSync: (file, data) => {
        written[file] = data
        wx.__files[file] = data
      },
      unlinkSync: (file) => {
        delete wx.__files[file]
      },
    }))
    tap(page, '#share-file')
    await settle()
    // 发文件要在点击里直接调用（写文件用同步的 writeFileSync）
    expect(wx.shareFileMessage).toHaveBeenCalledTimes(1)
    const opts = wx.shareFileMessage.mock.calls[0][0]
    expect(opts.fileName).toBe('共治-我的数据-2026-11-20.json')
    expect(opts.filePath).toBe('http://usr/gongzhi-export.json')
    expect(JSON.parse(written[opts.filePath]).photos[2].url).toMatch(/\/3\.jpg\?/)
    // 发完就删掉这个临时文件
    expect(wx.__files[opts.filePath]).toBeUndefined()
  })

  test('an old WeChat without file sharing is told to copy instead', async () => {
    wx.__server.on('GET', '/me/export', exportData())
    delete wx.shareFileMessage
    const page = await open()
    tap(page, '#export')
    await settle()
    tap(page, '#share-file')
    await settle()
    expect(lastToast(wx)).toBe('这个微信版本不能发送文件，请用“复制文字”')
  })

  test.each([
    [error(429, 'rate_limited', '请求过于频繁，请稍后再试'), '请求过于频繁，请稍后再试'],
    [{ status: 503, body: { code: 503, status: 'Service Unavailable', message: 'service_unavailable', errors: { detail: '' } } }, '服务器正忙，请稍后再试'],
    [NETWORK_FAIL, '网络不好，请稍后再试'],
  ])('errors are told in Chinese (%#)', async (reply, message) => {
    wx.__server.on('GET', '/me/export', () => reply)
    const page = await open()
    tap(page, '#export')
    await settle(10)
    expect(text(page, '#export-error')).toBe(message)
    expect(lastToast(wx)).toBe(message)
    expect(page.querySelector('#export-summary')).toBeUndefined()
  })

  test('an expired login: logs in again and the export goes through', async () => {
    wx.__server.on('GET', '/me/export', (req) =>
      req.header.Authorization === 'Bearer tok-0' ? error(401, 'unauthorized', '登录已过期，请重新登录') : exportData()
    )
    const page = await open()
    tap(page, '#export')
    await settle()
    expect(wx.__server.calls('POST', '/auth/login')).toHaveLength(1)
    expect(text(page, '#count-tickets')).toBe('2条')
  })
})

describe('delete my account', () => {
  test('needs two confirmations: the explanation on the page, then the dialog', async () => {
    wx.__server.on('DELETE', '/me', { status: 204, body: null })
    const page = await open()
    tap(page, '#delete')
    await settle()
    // 第一步：页面上说清楚后果，还没有发请求
    const panel = text(page, '#delete-panel')
    expect(panel).toContain('您的账号会被删除')
    expect(panel).toContain('您反映过的问题会留在公开记录里')
    expect(panel).toContain('不再显示是谁反映的')
    expect(wx.showModal).not.toHaveBeenCalled()
    expect(wx.__server.calls('DELETE', '/me')).toHaveLength(0)

    // “不注销了”收起说明
    tap(page, '#delete-cancel')
    await settle()
    expect(page.querySelector('#delete-panel')).toBeUndefined()

    // 第二步的弹窗点了“不注销”：还是不发
    tap(page, '#delete')
    await settle()
    cancelNextModal()
    tap(page, '#delete-confirm')
    await settle()
    expect(wx.showModal).toHaveBeenCalledTimes(1)
    expect(wx.showModal.mock.calls[0][0]).toMatchObject({ title: '最后确认', confirmText: '确定注销', cancelText: '不注销' })
    expect(wx.showModal.mock.calls[0][0].content).toContain('不能恢复')
    expect(wx.__server.calls('DELETE', '/me')).toHaveLength(0)
    expect(wx.__storage.gz_token).toBe('tok-0')

    // 两次都确认了才注销
    tap(page, '#delete-confirm')
    await settle()
    const calls = wx.__server.calls('DELETE', '/me')
    expect(calls).toHaveLength(1)
    expect(calls[0].header.Authorization).toBe('Bearer tok-0')
  })

  test('after success: local token and storage cleared, back to the home page logged out', async () => {
    wx.__server.on('DELETE', '/me', { status: 204, body: null })
    const page = await open()
    tap(page, '#delete')
    await settle()
    tap(page, '#delete-confirm')
    await settle()
    expect(wx.__server.calls('DELETE', '/me')).toHaveLength(1)
    expect(wx.__storage).toEqual({})
    expect(session.getToken()).toBe('')
    expect(session.getUser()).toBeNull()
    expect(wx.reLaunch).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/index/index' }))
    // 不会悄悄再登录、建一个新账号
    expect(session.isSignedOut()).toBe(true)
    await expect(api.get('/me')).rejects.toMatchObject({ key: 'signed_out' })
    expect(wx.login).not.toHaveBeenCalled()
    expect(wx.__server.calls('POST', '/auth/login')).toHaveLength(0)
  })

  test.each([
    ['the network fails', () => NETWORK_FAIL, '网络不好，请稍后再试', 1],
    ['too many requests (429)', () => error(429, 'rate_limited', '请求过于频繁，请稍后再试'), '请求过于频繁，请稍后再试', 1],
    ['the server is down (503)', () => error(503, 'database_unavailable', '服务暂时不可用，请稍后再试'), '服务暂时不可用，请稍后再试', 1],
  ])('when %s the user stays logged in and can try again', async (name, reply, message, sent) => {
    wx.__server.on('DELETE', '/me', reply)
    const page = await open()
    tap(page, '#delete')
    await settle()
    tap(page, '#delete-confirm')
    await settle(10)
    // 注销不自动重发：不知道服务器有没有收到
    expect(wx.__server.calls('DELETE', '/me')).toHaveLength(sent)
    expect(text(page, '#delete-error')).toBe(message)
    expect(lastToast(wx)).toBe(message)
    expect(wx.__storage.gz_token).toBe('tok-0')
    expect(wx.__storage.gz_user).toEqual(USER)
    expect(session.isSignedOut()).toBe(false)
    expect(wx.reLaunch).not.toHaveBeenCalled()
    // 说明和按钮还在，可以再点
    expect(page.querySelector('#delete-confirm')).toBeDefined()
    expect(page.data.deleting).toBe(false)
  })

  test('an expired login: logs in again once, then the account is deleted', async () => {
    wx.__server.on('DELETE', '/me', (req) =>
      req.header.Authorization === 'Bearer tok-0' ? error(401, 'unauthorized', '登录已过期，请重新登录') : { status: 204, body: null }
    )
    const page = await open()
    tap(page, '#delete')
    await settle()
    tap(page, '#delete-confirm')
    await settle(10)
    const calls = wx.__server.calls('DELETE', '/me')
    expect(calls.map((c) => c.header.Authorization)).toEqual(['Bearer tok-0', 'Bearer tok-1'])
    expect(wx.__storage.gz_token).toBeUndefined()
    expect(wx.reLaunch).toHaveBeenCalled()
  })
})
