// 订阅消息：模板 id 从服务器取并缓存；弹窗必须在用户点击时同步调用。
const api = require('./api')
const config = require('../config')

const CACHE_KEY = 'gz_sub_templates'

function cached() {
  try {
    const c = wx.getStorageSync(CACHE_KEY)
    if (c && Array.isArray(c.templates)) return c
  } catch (e) {
    // 忽略
  }
  return null
}

// 提前调用（页面加载时），让点击时手里已经有模板 id
function prefetch() {
  const c = cached()
  if (c && Date.now() - c.at < config.templatesCacheMs) return Promise.resolve(c.templates)
  return api
    .get('/config/subscriptions')
    .then((res) => {
      const templates = (res && res.templates) || []
      try {
        wx.setStorageSync(CACHE_KEY, { at: Date.now(), templates })
      } catch (e) {
        // 忽略
      }
      return templates
    })
    .catch(() => (c ? c.templates : []))
}

// 在点击事件里直接调用。返回 Promise<{asked, accepted}>，同意的条数已报给服务器；
// 手里没有模板（服务器没配或没取到）时不弹窗，asked 为 false。
function ask(names) {
  const c = cached()
  const wanted = ((c && c.templates) || []).filter((t) => names.indexOf(t.name) >= 0)
  // 账号有长期订阅资格时服务器把模板标为 long_term：一次同意长期有效。
  // 微信不许一次弹窗里混用长期与一次性模板，有长期的就只问长期的。
  const longTerm = wanted.filter((t) => t.long_term)
  const templates = longTerm.length ? longTerm : wanted
  if (!templates.length) return Promise.resolve({ asked: false, accepted: {} })
  return new Promise((resolve) => {
    wx.requestSubscribeMessage({
      tmplIds: templates.map((t) => t.template_id),
      success: (res) => resolve(res || {}),
      fail: () => resolve({}),
    })
  }).then((res) => {
    const accepted = {}
    templates.forEach((t) => {
      if (res[t.template_id] === 'accept') accepted[t.name] = (accepted[t.name] || 0) + 1
    })
    if (!Object.keys(accepted).length) return { asked: true, accepted }
    return api
      .post('/me/subscriptions', { accepted })
      .then(() => ({ asked: true, accepted }))
      .catch(() => ({ asked: true, accepted }))
  })
}

module.exports = { prefetch, ask, CACHE_KEY }
