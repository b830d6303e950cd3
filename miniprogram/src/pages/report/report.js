// 居民反映问题：选类型、拍照、定位置、说一句话，提交前先看看附近有没有人反映过。
const api = require('../../utils/api')
const format = require('../../utils/format')
const labels = require('../../utils/labels')
const subscribe = require('../../utils/subscribe')
const privacy = require('../../utils/privacy')
const privacyBehavior = require('../../behaviors/privacy')
const photosBehavior = require('../../behaviors/photos')

const MAX_DESCRIPTION = 2000
const SUBSCRIBE_TEMPLATES = ['ticket_accepted', 'ticket_answered', 'rate_reminder']

Component({
  behaviors: [privacyBehavior, photosBehavior],

  data: {
    maxDescription: MAX_DESCRIPTION,
    categories: [],
    categoryCode: '',
    location: null,
    locating: false,
    locationError: '',
    description: '',
    descriptionLength: 0,
    anonymous: false,
    // 服务器要求：第一次反映前同意当前版本的《用户隐私保护指引》（GET/POST /me/consent）
    consentNeeded: false,
    consentChecked: false,
    policyVersion: '',
    nearby: [],
    submitting: false,
    error: '',
    done: null,
    subscribeResult: '',
  },

  lifetimes: {
    created() {
      this._supportKeys = {}
      this._submitKey = ''
      this._submitFingerprint = ''
    },
  },

  methods: {
    onLoad() {
      this.loadConsent()
      this.loadCategories()
      subscribe.prefetch().catch(() => {})
      this.locate()
    },

    loadCategories() {
      return api
        .get('/categories')
        .then((res) => {
          const categories = ((res && res.items) || []).map((c) => {
            const icon = labels.iconFor(c.icon, c.name)
            return { code: c.code, name: c.name, icon: c.icon, glyph: icon.glyph, color: icon.color }
          })
          this.setData({ categories })
        })
        .catch((err) => api.showError(err))
    },

    loadConsent() {
      return api
        .get('/me/consent')
        .then((s) => this.setData({ consentNeeded: !s.consented, policyVersion: s.current_version || '' }))
        .catch(() => {})
    },

    onToggleConsent() {
      this.setData({ consentChecked: !this.data.consentChecked, error: '' })
    },

    onOpenPolicy() {
      privacy.openContract()
    },

    // 提交前把用户的同意记到服务器（只在需要时）
    recordConsent() {
      if (!this.data.consentNeeded) return Promise.resolve()
      return api.post('/me/consent', { policy_version: this.data.policyVersion }).then((s) => {
        this.setData({ consentNeeded: !s.consented, policyVersion: s.current_version || this.data.policyVersion })
      })
    },

    onPickCategory(e) {
      const code = e.currentTarget.dataset.code
      this.setData({ categoryCode: code, error: '' })
      this.loadNearby()
    },

    // —— 位置 ——
    locate() {
      return this.ensurePrivacy().then((ok) => {
        if (!ok) {
          this.setData({ locationError: '没有同意使用位置，请点“在地图上选”' })
          return
        }
        this.setData({ locating: true, locationError: '' })
        return new Promise((resolve) => {
          wx.getLocation({
            type: 'gcj02',
            success: (res) => {
              this.setData({
                locating: false,
                location: {
                  lat: res.latitude,
                  lng: res.longitude,
                  address: '',
                  label: '您现在所在的位置',
                },
                error: '',
              })
              this.loadNearby()
              resolve()
            },
            fail: () => {
              this.setData({
                locating: false,
                locationError: '没能自动定位，请点“在地图上选”',
              })
              resolve()
            },
          })
        })
      })
    },

    onLocate() {
      this.locate()
    },

    onChooseLocation() {
      this.ensurePrivacy().then((ok) => {
        if (!ok) return
        const here = this.data.location
        const options = {
          success: (res) => {
            const address = [res.address, res.name].filter(Boolean).join(' ')
            this.setData({
              location: {
                lat: res.latitude,
                lng: res.longitude,
                address,
                label: address || '地图上选的位置',
              },
              locationError: '',
              error: '',
            })
            this.loadNearby()
          },
        }
        if (here) {
          options.latitude = here.lat
          options.longitude = here.lng
        }
        wx.chooseLocation(options)
      })
    },

    // 附近 200 米内同类的反映，提交前给居民看，可以点“我也遇到了”
    loadNearby() {
      const loc = this.data.location
      if (!loc || !this.data.categoryCode) {
        this.setData({ nearby: [] })
        return Promise.resolve()
      }
      return api
        .get('/tickets/nearby', {
          lat: loc.lat,
          lng: loc.lng,
          coord: 'gcj02',
          category: this.data.categoryCode,
          radius: 200,
        })
        .then((res) => {
          const nearby = ((res && res.items) || []).map((t) =>
            Object.assign(format.ticketView(t), { supported: false })
          )
          this.setData({ nearby })
        })
        .catch(() => this.setData({ nearby: [] }))
    },

    onSupport(e) {
      const id = e.currentTarget.dataset.id
      if (!this._supportKeys[id]) this._supportKeys[id] = api.newKey()
      return api
        .post(`/tickets/${id}/support`, {}, { key: this._supportKeys[id] })
        .then((res) => {
          const nearby = this.data.nearby.map((t) =>
            String(t.id) === String(id)
              ? Object.assign({}, t, {
                  supported: true,
                  supporters: res && res.supporters !== undefined ? res.supporters : t.supporters + 1,
                })
              : t
          )
          this.setData({ nearby })
          wx.showToast({ title: '已记下，谢谢您', icon: 'success' })
        })
        .catch((err) => api.showError(err))
    },

    onOpenNearby(e) {
      wx.navigateTo({ url: `/pages/ticket/ticket?id=${e.currentTarget.dataset.id}` })
    },

    // —— 说明 ——
    onDescriptionInput(e) {
      const description = e.detail.value || ''
      this.setData({ description, descriptionLength: description.length })
    },

    onToggleAnonymous() {
      this.setData({ anonymous: !this.data.anonymous })
    },

    // —— 提交 ——
    validate() {
      const d = this.data
      if (!d.categoryCode) return '请先选一个问题类型'
      if (!d.photos.length) return '请至少拍一张照片'
      if (!d.location) return '请确定问题在哪里'
      if (!d.description.trim()) return '请用一句话说说是什么问题'
      if (d.description.length > MAX_DESCRIPTION) return `说明不能超过${MAX_DESCRIPTION}个字`
      if (d.consentNeeded && !d.consentChecked) return '请先勾选“我已阅读并同意隐私保护指引”'
      return ''
    },

    fail(message) {
      this.setData({ error: message })
      wx.showToast({ title: message, icon: 'none', duration: 3000 })
    },

    onSubmit() {
      if (this.data.submitting) return Promise.resolve()
      const problem = this.validate()
      if (problem) {
        this.fail(problem)
        return Promise.resolve()
      }
      this.setData({ submitting: true, error: '' })
      return this.recordConsent()
        .then(() => this.uploadAllPhotos())
        .then((mediaIds) => {
          const d = this.data
          const body = {
            category: d.categoryCode,
            description: d.description.trim(),
            lat: d.location.lat,
            lng: d.location.lng,
            coord: 'gcj02',
            address: d.location.address || '',
            media: mediaIds,
            anonymous: d.anonymous,
          }
          // 同一份内容重新提交时沿用同一个幂等键，服务器就不会记成两条
          const fingerprint = JSON.stringify(body)
          if (!this._submitKey || this._submitFingerprint !== fingerprint) {
            this._submitKey = api.newKey()
            this._submitFingerprint = fingerprint
          }
          return api.post('/tickets', body, { key: this._submitKey })
        })
        .then((ticket) => {
          this._submitKey = ''
          this._submitFingerprint = ''
          this.setData({ submitting: false, done: format.ticketView(ticket) })
        })
        .catch((err) => {
          this.setData({ submitting: false, error: api.messageFor(err) })
          api.showError(err)
          // 服务器说还没同意（或指引换了新版本）：把勾选框拿出来，让用户重新同意
          if (err && (err.key === 'consent_required' || err.key === 'policy_outdated')) {
            const version = err.errors && err.errors.policy_version
            this.setData({ consentNeeded: true, consentChecked: false })
            if (version) this.setData({ policyVersion: version })
            else this.loadConsent()
          }
        })
    },

    // 提交成功后：问一下要不要接收进展提醒（必须由这次点击直接触发）
    onSubscribe() {
      return subscribe.ask(SUBSCRIBE_TEMPLATES).then((res) => {
        const n = Object.keys(res.accepted || {}).length
        this.setData({
          subscribeResult: n ? '好的，有进展时会在微信里通知您' : '没有开启提醒，您可以随时在“我的反映”里查看',
        })
      })
    },

    onViewTicket() {
      wx.redirectTo({ url: `/pages/ticket/ticket?id=${this.data.done.id}` })
    },

    onBackHome() {
      wx.navigateBack({ delta: 1, fail: () => wx.reLaunch({ url: '/pages/index/index' }) })
    },
  },
})
