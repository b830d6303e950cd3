const api = require('./utils/api')
const privacy = require('./utils/privacy')

App({
  onLaunch() {
    // 打开就登录；失败也不拦着，之后的请求会再试
    api.ensureLogin().catch(() => {})
    if (typeof wx.onNeedPrivacyAuthorization === 'function') {
      wx.onNeedPrivacyAuthorization((resolve) => privacy.handleNeed(resolve))
    }
  },
})
