const api = require('./utils/api')
const privacy = require('./utils/privacy')
const update = require('./utils/update')

App({
  onLaunch() {
    // 打开就登录；失败也不拦着，之后的请求会再试。位置不在这里问：用到时才问。
    api.ensureLogin().catch(() => {})
    update.check()
    if (typeof wx.onNeedPrivacyAuthorization === 'function') {
      wx.onNeedPrivacyAuthorization((resolve) => privacy.handleNeed(resolve))
    }
  },
})
