// 居民反映问题：选类型、定位置（马上看附近有没有人反映过、归谁管）、拍照、说一句话（有照片可不写）。
// 表单每改一处就存成草稿，页面被系统收回也不丢。
const api = require('../../utils/api')
const format = require('../../utils/format')
const labels = require('../../utils/labels')
const subscribe = require('../../utils/subscribe')
const privacy = require('../../utils/privacy')
const draft = require('../../utils/draft')
const emergency = require('../../utils/emergency')
const privacyBehavior = require('../../behaviors/privacy')
const locationBehavior = require('../../behaviors/location')
const photosBehavior = require('../../behaviors/photos')

const MAX_DESCRIPTION = 2000
const SUBSCRIBE_TEMPLATES = ['ticket_accepted', 'ticket_answered', 'rate_reminder']
const DRAFT = 'report'
const LEAVE_MESSAGE = '反映还没提交。写好的内容已存在手机上，下次打开会接着填。确定离开吗？'

Component({
  behaviors: [privacyBehavior, locationBehavior, photosBehavior],

  data: {
    maxDescription: MAX_DESCRIPTION,
    categories: [],
    categoriesLoading: true,
    categoriesError: '',
    categoryCode: '',
    emergency: null,
    phrases: [],
    location: null,
    locating: false,
    locationError: '',
    // 服务范围（/units/locate）：归哪个单位管；不在范围内也能提交，由上级分派
    unitName: '',
    outsideArea: false,
    description: '',
    descriptionLength: 0,
    anonymous: false,
    // 服务器要求：第一次反映前同意当前版本的《用户隐私保护指引》（GET/POST /me/consent）
    consentNeeded: false,
    consentChecked: false,
    policyVersion: '',
    nearby: [],
    draftRestored: false,
    submitting: false,
    error: '',
    done: null,
    subscribeResult: '',
  },

  observers: {
    // 每改一处就存草稿，并让“返回”先问一下
    'categoryCode, location, description, anonymous, photos': function () {
      this.saveDraft()
    },
  },

  lifetimes: {
    created() {
      this._supportKeys = {}
      this._submitKey = ''
      this._submitFingerprint = ''
      this._placeSeq = 0
      this._subscribeTask = null
      this._leaveGuard = false
    },
  },

  methods: {
    onLoad() {
      this.restoreDraft()
      this.loadConsent()
      this.loadCategories()
      subscribe.prefetch().catch(() => {})
      if (!this.data.location) this.locate()
      else this.checkPlace()
    },

    onHide() {
      this.saveDraft()
    },

    // —— 草稿 ——
    hasContent() {
      const d = this.data
      return !!(d.categoryCode || d.photos.length || d.description.trim())
    },

    saveDraft() {
      if (this._restoring || this.data.done) return
      const d = this.data
      if (!this.hasContent()) {
        draft.clear(DRAFT)
        this.guardLeaving(false)
        return
      }
      draft.save(DRAFT, {
        categoryCode: d.categoryCode,
        location: d.location,
        description: d.description,
        anonymous: d.anonymous,
        // 已上传的照片留 id（提交只要 id）；没传完的留路径和幂等键，回来后再传
        photos: d.photos.map((p) => ({ path: p.path, id: p.id, key: p.key })),
      })
      this.guardLeaving(true)
    },

    restoreDraft() {
      const saved = draft.load(DRAFT)
      if (!saved) return
      this._restoring = true
      const photos = (saved.photos || []).map((p) => Object.assign({}, p, { state: p.id ? 'done' : 'failed' }))
      this.setData({
        categoryCode: saved.categoryCode || '',
        location: saved.location || null,
        description: saved.description || '',
        descriptionLength: (saved.description || '').length,
        anonymous: !!saved.anonymous,
        photos,
        draftRestored: true,
      })
      this._restoring = false
      this.guardLeaving(true)
      photos.filter((p) => !p.id).forEach((p) => this.uploadPhoto(p.path).catch(() => {}))
    },

    onDiscardDraft() {
      draft.clear(DRAFT)
      this.setData({
        categoryCode: '',
        emergency: null,
        phrases: [],
        description: '',
        descriptionLength: 0,
        anonymous: false,
        photos: [],
        nearby: [],
        draftRestored: false,
      })
    },

    // 有内容时，点“返回”先问一下（微信的离开确认）
    guardLeaving(on) {
      if (on === this._leaveGuard) return
      this._leaveGuard = on
      if (on && typeof wx.enableAlertBeforeUnload === 'function') {
        wx.enableAlertBeforeUnload({ message: LEAVE_MESSAGE })
      } else if (!on && typeof wx.disableAlertBeforeUnload === 'function') {
        wx.disableAlertBeforeUnload()
      }
    },

    // —— 类型 ——
    loadCategories() {
      this.setData({ categoriesLoading: true, categoriesError: '' })
      return api
        .get('/categories')
        .then((res) => {
          const categories = ((res && res.items) || []).map((c) => {
            const icon = labels.iconFor(c.icon, c.name)
            return { code: c.code, name: c.name, icon: c.icon, glyph: icon.glyph, color: icon.color }
          })
          this.setData({ categories, categoriesLoading: false })
          this.applyCategory()
          if (this.data.categoryCode) this.loadNearby()
        })
        .catch((err) => this.setData({ categoriesLoading: false, categoriesError: api.messageFor(err) }))
    },

    onRetry() {
      return this.loadCategories()
    },

    onPickCategory(e) {
      this.setData({ categoryCode: e.currentTarget.dataset.code, error: '' })
      this.applyCategory()
      this.loadNearby()
    },

    // 选中的类型决定：要不要先打电话、有哪些常用的话
    applyCategory() {
      const c = this.data.categories.find((x) => x.code === this.data.categoryCode)
      this.setData({
        emergency: emergency.find(c),
        phrases: c ? labels.phrasesFor(c.icon) : [],
      })
    },

    onCallEmergency() {
      if (this.data.emergency) emergency.call(this.data.emergency.number)
    },

    // —— 隐私 ——
    loadConsent() {
      return api
        .get('/me/consent')
        .then((s) =>
          this.setData({
            consentNeeded: !s.consented,
            consentChecked: this.data.consentChecked || privacy.hasAgreedInGate(),
            policyVersion: s.current_version || '',
          })
        )
        .catch(() => {})
    },

    // 刚在隐私说明上点了“同意”：同意的就是这份指引，不必再勾一次
    onPrivacyAgreed() {
      this.setData({ consentChecked: true })
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

    // —— 位置 ——
    locate(force) {
      this.setData({ locating: true, locationError: '' })
      return this.fixLocation({ force: !!force }).then((fix) => {
        if (!fix) {
          const why = {
            privacy: '没有同意使用位置，请点“在地图上选”',
            denied: '没有打开定位。可以点“在地图上选”，或去设置里打开',
            system: '手机的定位没有打开。请在手机设置里打开，或点“在地图上选”',
          }
          this.setData({ locating: false, locationError: why[this.locationFailure] || '没能自动定位，请点“在地图上选”' })
          return
        }
        this.setPlace({ lat: fix.lat, lng: fix.lng, address: '', label: '您现在所在的位置' })
      })
    },

    onLocate() {
      return this.locate(true)
    },

    onLocationAllowed() {
      return this.locate(true)
    },

    onChooseLocation() {
      return this.ensurePrivacy().then((ok) => {
        if (!ok) return
        const here = this.data.location
        const options = {
          success: (res) => {
            const address = [res.address, res.name].filter(Boolean).join(' ')
            this.setPlace({ lat: res.latitude, lng: res.longitude, address, label: address || '地图上选的位置' })
          },
        }
        if (here) {
          options.latitude = here.lat
          options.longitude = here.lng
        }
        wx.chooseLocation(options)
      })
    },

    setPlace(location) {
      this.setData({ locating: false, location, locationError: '', error: '' })
      this.checkPlace()
      this.loadNearby()
    },

    // 先问服务器这个地方归谁管；不在服务范围内提前说，不等提交后才知道
    checkPlace() {
      const loc = this.data.location
      if (!loc) return Promise.resolve()
      const seq = ++this._placeSeq
      return api
        .get('/units/locate', { lat: loc.lat, lng: loc.lng, coord: 'gcj02' })
        .then((unit) => {
          if (seq === this._placeSeq) this.setData({ unitName: (unit && unit.name) || '', outsideArea: false })
        })
        .catch((err) => {
          if (seq !== this._placeSeq) return
          this.setData({ unitName: '', outsideArea: err && err.key === 'outside_all_units' })
        })
    },

    // 附近 200 米内同类的反映：选好类型和位置就给居民看，可以直接点“我也遇到了”
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

    // 常用的话：点一下就写进去（已写了就接在后面）
    onPickPhrase(e) {
      const phrase = e.currentTarget.dataset.phrase
      const now = this.data.description.trim()
      const description = now ? `${now}，${phrase}` : phrase
      this.setData({ description, descriptionLength: description.length, error: '' })
    },

    onToggleAnonymous() {
      this.setData({ anonymous: !this.data.anonymous })
    },

    // —— 提交 ——
    validate() {
      const d = this.data
      if (!d.categoryCode) return '请先选一个问题类型'
      if (!d.location) return '请确定问题在哪里'
      if (!d.photos.length) return '请至少拍一张照片'
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
      // 订阅提醒的弹窗必须在这次点击里直接弹出；一份反映只问一次
      if (!this._subscribeTask) this._subscribeTask = subscribe.ask(SUBSCRIBE_TEMPLATES)
      this.setData({ submitting: true, error: '' })
      return this.recordConsent()
        .then(() => this.uploadAllPhotos())
        .then((mediaIds) => {
          const d = this.data
          const body = {
            category: d.categoryCode,
            lat: d.location.lat,
            lng: d.location.lng,
            coord: 'gcj02',
            address: d.location.address || '',
            media: mediaIds,
            anonymous: d.anonymous,
          }
          // 有照片时可以不写一句话：不写就不发这个字段
          const description = d.description.trim()
          if (description) body.description = description
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
          draft.clear(DRAFT)
          this.guardLeaving(false)
          this.setData({ submitting: false, done: format.ticketView(ticket) })
          return this._subscribeTask.then((res) => {
            if (!res || !res.asked) return
            const n = Object.keys(res.accepted || {}).length
            this.setData({
              subscribeResult: n ? '有进展时会在微信里通知您' : '没有开启提醒，您可以随时在“我的反映”里查看',
            })
          })
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

    onViewTicket() {
      wx.redirectTo({ url: `/pages/ticket/ticket?id=${this.data.done.id}` })
    },

    onBackHome() {
      wx.navigateBack({ delta: 1, fail: () => wx.reLaunch({ url: '/pages/index/index' }) })
    },
  },
})
