// 页面共用：需要位置或照片前调用 ensurePrivacy()，未同意时弹出说明。
const privacy = require('../utils/privacy')

module.exports = Behavior({
  data: {
    privacyShow: false,
  },
  lifetimes: {
    attached() {
      this._privacyListener = () => this.setData({ privacyShow: true })
      privacy.setListener(this._privacyListener)
    },
    detached() {
      privacy.clearListener(this._privacyListener)
    },
  },
  pageLifetimes: {
    // 回到这个页面时，由它来显示隐私说明
    show() {
      if (this._privacyListener) privacy.setListener(this._privacyListener)
    },
  },
  methods: {
    // 返回 Promise<boolean>：true 表示可以使用位置和照片
    ensurePrivacy() {
      return privacy.needsAuthorization().then((need) => {
        if (!need) return true
        return new Promise((resolve) => {
          this._privacyResolve = resolve
          this.setData({ privacyShow: true })
        })
      })
    },
    onPrivacyAgree(e) {
      this.setData({ privacyShow: false })
      privacy.settle(true, (e && e.detail && e.detail.buttonId) || 'agree-privacy')
      const resolve = this._privacyResolve
      this._privacyResolve = null
      if (resolve) resolve(true)
      if (typeof this.onPrivacyAgreed === 'function') this.onPrivacyAgreed()
    },
    onPrivacyDecline() {
      this.setData({ privacyShow: false })
      privacy.settle(false)
      const resolve = this._privacyResolve
      this._privacyResolve = null
      if (resolve) resolve(false)
    },
  },
})
