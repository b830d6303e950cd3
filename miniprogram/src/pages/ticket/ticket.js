// 一条反映的全部经过：现在到哪一步、谁在办、每一步的时间线、照片、评价。
const api = require('../../utils/api')
const format = require('../../utils/format')
const labels = require('../../utils/labels')

// 工作人员可做的操作（按钮的说法），显示哪些由服务器的 allowed_actions 决定
const STAFF_ACTIONS = [
  { action: 'accept', label: '受理', style: 'btn-primary' },
  { action: 'assign', label: '派单', style: 'btn-primary' },
  { action: 'progress', label: '写进展', style: 'btn-plain' },
  { action: 'resolve', label: '办结答复', style: 'btn-primary' },
  { action: 'propose', label: '提为议题', style: 'btn-plain' },
  { action: 'transfer', label: '转给其他单位', style: 'btn-plain' },
  { action: 'return', label: '退回', style: 'btn-danger' },
]

const MAX_COMMENT = 500
const MAX_EVENT_PAGES = 5

const LATE = { respond: '超过了受理时限', resolve: '超过了办结时限' }

// 时间线上的一步。actor.display 已是服务器写好的说法（如“网格员 小王”“反映人（我）”）。
function eventView(e) {
  const actor = e.actor || {}
  const data = e.data || {}
  const extra = []
  if (e.action === 'return' && data.reason) extra.push('原因：' + labels.reasonLabel(data.reason))
  if (data.duplicate_of) extra.push(`与第${data.duplicate_of}号反映重复`)
  if ((e.action === 'rate' || e.action === 'redo') && data.rating) extra.push(labels.ratingLabel(data.rating))
  if (data.late && LATE[data.late]) extra.push(LATE[data.late])
  return {
    id: e.id,
    title: labels.actionLabel(e.action),
    statusLabel:
      e.to_status && e.to_status !== e.from_status ? e.to_status_label || labels.statusLabel(e.to_status) : '',
    who: actor.display || labels.roleLabel(actor.role),
    extra: extra.filter(Boolean).join('，'),
    note: e.note || '',
    time: format.dateTime(e.at),
    at: e.at,
    media: format.photos(e.media),
  }
}

function byTime(a, b) {
  const ta = Date.parse(a.at) || 0
  const tb = Date.parse(b.at) || 0
  return ta - tb
}

Component({
  data: {
    loading: true,
    loadError: '',
    ticket: null,
    photos: [],
    events: [],
    staffActions: [],
    canWithdraw: false,
    canSupport: false,
    canRate: false,
    ratings: labels.RATINGS,
    rating: '',
    comment: '',
    maxComment: MAX_COMMENT,
    rated: null,
    busy: false,
    error: '',
  },

  lifetimes: {
    created() {
      this._keys = {}
    },
  },

  methods: {
    onLoad(query) {
      this._id = query && query.id
      return this.load()
    },

    onShow() {
      // 从办理页回来时刷新
      if (this._loaded) this.load()
    },

    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh())
    },

    onRetry() {
      this.setData({ loading: true, loadError: '' })
      return this.load()
    },

    // 转发到微信群：打开的是这条反映的公开页面（不显示反映人）
    onShareAppMessage() {
      const t = this.data.ticket
      // 还在审核的不公开，转发首页
      if (!t || t.held) return { title: '共治：身边的问题，一起反映', path: '/pages/index/index' }
      const text = t.description ? `：${t.description}` : ''
      const share = { title: `${t.categoryName}（${t.statusLabel}）${text}`.slice(0, 40), path: `/pages/ticket/ticket?id=${t.id}` }
      if (this.data.photos.length) share.imageUrl = this.data.photos[0].url
      return share
    },

    load() {
      const id = this._id
      if (!id) {
        this.setData({ loading: false, loadError: '没有找到这条反映' })
        return Promise.resolve()
      }
      return Promise.all([api.get(`/tickets/${id}`), this.loadEvents(id)])
        .then(([ticket, events]) => {
          this._loaded = true
          this.applyTicket(ticket)
          this.setData({ events, loading: false, loadError: '' })
        })
        .catch((err) => {
          this.setData({ loading: false, loadError: api.messageFor(err) })
        })
    },

    // 时间线按发生先后排列（服务器分页给，多取几页）
    loadEvents(id) {
      const all = []
      const page = (cursor, n) =>
        api.get(`/tickets/${id}/events`, { cursor }).then((res) => {
          ;(res.items || []).forEach((e) => all.push(e))
          if (res.next_cursor && n + 1 < MAX_EVENT_PAGES) return page(res.next_cursor, n + 1)
          return null
        })
      return page('', 0).then(() => all.slice().sort(byTime).map(eventView))
    },

    applyTicket(t) {
      this._ticket = t
      const allowed = t.allowed_actions || []
      const view = Object.assign(format.ticketView(t), {
        resolveByText: format.dateTime(t.resolve_by),
        respondByText: format.dateTime(t.respond_by),
      })
      const rated = t.rating
        ? {
            label: t.rating.label || labels.ratingLabel(t.rating.rating),
            comment: t.rating.comment || '',
            time: format.dateTime(t.rating.at),
          }
        : null
      this.setData({
        ticket: view,
        photos: format.photos(t.media),
        staffActions: STAFF_ACTIONS.filter((a) => allowed.indexOf(a.action) >= 0),
        canWithdraw: allowed.indexOf('withdraw') >= 0,
        canSupport: allowed.indexOf('support') >= 0,
        canRate: allowed.indexOf('rate') >= 0 && !t.rating,
        rated,
      })
      wx.setNavigationBarTitle({ title: `${view.categoryName} · ${view.statusLabel}` })
    },

    onPreview(e) {
      const current = e.currentTarget.dataset.url
      const group = [this.data.photos].concat(this.data.events.map((ev) => ev.media))
      const urls = (group.find((list) => list.some((p) => p.url === current)) || [{ url: current }]).map((p) => p.url)
      wx.previewImage({ current, urls })
    },

    // 一次操作意图一个幂等键；成功后清掉
    keyFor(intent) {
      if (!this._keys[intent]) this._keys[intent] = api.newKey()
      return this._keys[intent]
    },

    // 有人先改过（409）：刷新并告诉用户
    handleError(err) {
      if (err && err.status === 409) {
        wx.showToast({ title: api.refreshedMessage(err), icon: 'none', duration: 3000 })
        this.load()
        return
      }
      api.showError(err)
    },

    act(action, body) {
      if (this.data.busy) return Promise.resolve(null)
      const t = this._ticket
      this.setData({ busy: true, error: '' })
      const intent = action
      return api
        .post(`/tickets/${t.id}/${action}`, Object.assign({ version: t.version }, body || {}), {
          key: this.keyFor(intent),
        })
        .then((ticket) => {
          delete this._keys[intent]
          this.setData({ busy: false })
          return ticket
        })
        .catch((err) => {
          this.setData({ busy: false })
          this.handleError(err)
          return null
        })
    },

    onStaffAction(e) {
      const action = e.currentTarget.dataset.action
      const t = this._ticket
      if (action === 'accept') {
        wx.showModal({
          title: '受理',
          content: '确认受理这件事吗？受理后反映人会收到通知。',
          confirmText: '受理',
          cancelText: '再想想',
          success: (res) => {
            if (!res.confirm) return
            this.act('accept', { note: '' }).then((ticket) => {
              if (!ticket) return
              wx.showToast({ title: '已受理', icon: 'success' })
              this.load()
            })
          },
        })
        return
      }
      wx.navigateTo({ url: `/pages/handle/handle?id=${t.id}&action=${action}` })
    },

    onWithdraw() {
      wx.showModal({
        title: '撤回',
        content: '确认撤回这条反映吗？',
        confirmText: '撤回',
        cancelText: '不撤回',
        success: (res) => {
          if (!res.confirm) return
          this.act('withdraw', {}).then((ticket) => {
            if (!ticket) return
            wx.showToast({ title: '已撤回', icon: 'success' })
            this.load()
          })
        },
      })
    },

    onSupport() {
      const t = this._ticket
      return api
        .post(`/tickets/${t.id}/support`, {}, { key: this.keyFor('support') })
        .then((res) => {
          delete this._keys.support
          this.setData({ 'ticket.supporters': res.supporters, canSupport: false })
          wx.showToast({ title: '已记下，谢谢您', icon: 'success' })
        })
        .catch((err) => api.showError(err))
    },

    // —— 评价 ——
    onPickRating(e) {
      this.setData({ rating: e.currentTarget.dataset.value, error: '' })
    },

    onCommentInput(e) {
      this.setData({ comment: e.detail.value || '' })
    },

    onSubmitRating() {
      const rating = this.data.rating
      const comment = this.data.comment.trim()
      let problem = ''
      if (!rating) problem = '请先选满意、基本满意或不满意'
      else if (rating === 'dissatisfied' && !comment) problem = '请说说哪里不满意，我们好改进'
      else if (comment.length > MAX_COMMENT) problem = `评价不能超过${MAX_COMMENT}个字`
      if (problem) {
        this.setData({ error: problem })
        wx.showToast({ title: problem, icon: 'none', duration: 3000 })
        return Promise.resolve()
      }
      return this.act('rate', { rating, comment }).then((ticket) => {
        if (!ticket) return
        // 第一次不满意：服务器把它退回重新办理（redo），不是关闭
        if (ticket.status !== 'closed' && ticket.redo) {
          wx.showToast({ title: '已请他们重新办理', icon: 'none', duration: 3000 })
        } else {
          wx.showToast({ title: '谢谢您的评价', icon: 'success' })
        }
        this.setData({ rating: '', comment: '' })
        this.applyTicket(ticket)
        return this.loadEvents(ticket.id).then((events) => this.setData({ events }))
      })
    },

    onOpenUnit() {
      const t = this._ticket
      if (t && t.unit) wx.navigateTo({ url: `/pages/stats/stats?unit=${t.unit.id}` })
    },
  },
})
