// 待审核：内容被拦下待人看一眼的反映（只有反映人和工作人员看得到）。
// 通过 → 公开并交给所属单位办理；不公开 → 必须写原因，反映人会收到。
const api = require('../../utils/api')
const format = require('../../utils/format')

const PAGE_SIZE = 20
const MAX_REASON = 500

function view(t) {
  const v = format.ticketView(t)
  return Object.assign(v, {
    photos: format.photos(t.media),
    reporterName: (t.reporter && t.reporter.display) || '',
  })
}

Component({
  data: {
    items: [],
    nextCursor: null,
    loading: false,
    loadedOnce: false,
    error: '',
    forbidden: false,
    forbiddenText: '',
    busyId: null,
    hidingId: null,
    reason: '',
    reasonError: '',
    maxReason: MAX_REASON,
  },

  lifetimes: {
    created() {
      this._raw = []
      this._seq = 0
      this._keys = {}
    },
  },

  methods: {
    onLoad() {
      return this.reload()
    },

    onPullDownRefresh() {
      this.reload().then(() => wx.stopPullDownRefresh())
    },

    onReachBottom() {
      if (this.data.nextCursor && !this.data.loading) return this.fetch(this.data.nextCursor)
      return Promise.resolve()
    },

    onLoadMore() {
      return this.onReachBottom()
    },

    onRetry() {
      return this.reload()
    },

    reload() {
      this._raw = []
      this.setData({ items: [], nextCursor: null, hidingId: null, reason: '', reasonError: '' })
      return this.fetch(null)
    },

    fetch(cursor) {
      const seq = ++this._seq
      this.setData({ loading: true, error: '' })
      return api
        .get('/moderation/tickets', { limit: PAGE_SIZE, cursor })
        .then((res) => {
          if (seq !== this._seq) return
          this._raw = this._raw.concat((res && res.items) || [])
          this.setData({
            loading: false,
            loadedOnce: true,
            forbidden: false,
            nextCursor: (res && res.next_cursor) || null,
            items: this._raw.map(view),
          })
        })
        .catch((err) => {
          if (seq !== this._seq) return
          if (err && err.status === 403) {
            this.setData({
              loading: false,
              forbidden: true,
              forbiddenText: err.detail || '只有网格员、干部、单位负责人和管理员可以审核反映',
            })
            return
          }
          this.setData({ loading: false, error: api.messageFor(err) })
        })
    },

    // 处理成功：这一条从列表里拿掉；这一页拿空了而后面还有，就接着取
    removeItem(id) {
      this._raw = this._raw.filter((t) => t.id !== id)
      this.setData({ items: this._raw.map(view), hidingId: null, reason: '', reasonError: '' })
      if (!this._raw.length && this.data.nextCursor) return this.fetch(this.data.nextCursor)
      return Promise.resolve()
    },

    keyFor(intent) {
      if (!this._keys[intent]) this._keys[intent] = api.newKey()
      return this._keys[intent]
    },

    moderate(id, action, body, intent) {
      if (this.data.busyId) return Promise.resolve(false)
      this.setData({ busyId: id })
      return api
        .post(`/moderation/tickets/${id}/${action}`, body, { key: this.keyFor(intent) })
        .then(() => {
          delete this._keys[intent]
          this.setData({ busyId: null })
          return this.removeItem(id).then(() => true)
        })
        .catch((err) => {
          this.setData({ busyId: null })
          // 别人先审核过了（409）或已经看不到了（404）：提示并刷新列表
          if (err && (err.status === 409 || err.status === 404)) {
            const title = err.key === 'conflict' ? api.refreshedMessage(err) : api.messageFor(err) + '，已为您刷新'
            wx.showToast({ title, icon: 'none', duration: 3000 })
            return this.reload().then(() => false)
          }
          api.showError(err)
          return false
        })
    },

    onApprove(e) {
      const id = Number(e.currentTarget.dataset.id)
      if (this.data.busyId) return
      wx.showModal({
        title: '通过审核',
        content: '内容没有问题吗？通过后这条反映会公开，并交给所属单位办理。',
        confirmText: '通过',
        cancelText: '再想想',
        success: (res) => {
          if (!res || !res.confirm) return
          this.moderate(id, 'approve', { note: '' }, `approve-${id}`).then((done) => {
            if (done) wx.showToast({ title: '已通过', icon: 'success' })
          })
        },
      })
    },

    // 不公开：先展开原因输入框
    onHideStart(e) {
      const id = Number(e.currentTarget.dataset.id)
      this.setData({ hidingId: id, reason: '', reasonError: '' })
    },

    onHideCancel() {
      this.setData({ hidingId: null, reason: '', reasonError: '' })
    },

    onReasonInput(e) {
      this.setData({ reason: e.detail.value, reasonError: '' })
    },

    onHideConfirm() {
      const id = this.data.hidingId
      if (!id || this.data.busyId) return
      const reason = (this.data.reason || '').trim()
      if (!reason) {
        this.setData({ reasonError: '请写明不公开的原因，反映人会看到' })
        wx.showToast({ title: '请写明不公开的原因', icon: 'none' })
        return
      }
      wx.showModal({
        title: '不公开',
        content: '这条反映将不公开、不再办理，反映人会收到通知和您写的原因。确定吗？',
        confirmText: '不公开',
        confirmColor: '#b3261e',
        cancelText: '再想想',
        success: (res) => {
          if (!res || !res.confirm) return
          this.moderate(id, 'hide', { reason }, `hide-${id}-${reason}`).then((done) => {
            if (done) wx.showToast({ title: '已设为不公开', icon: 'success' })
          })
        },
      })
    },

    onOpen(e) {
      wx.navigateTo({ url: `/pages/ticket/ticket?id=${e.currentTarget.dataset.id}` })
    },

    onPreviewPhoto(e) {
      const id = Number(e.currentTarget.dataset.id)
      const item = this.data.items.find((t) => t.id === id)
      if (!item) return
      wx.previewImage({ current: e.currentTarget.dataset.url, urls: item.photos.map((p) => p.url) })
    },
  },
})
