// 消息：受理了、办结了、该评价了……点开看那条反映。
const api = require('../../utils/api')
const format = require('../../utils/format')

// 议题与投票的消息：服务器说明该打开哪一页（page）；没有说明时，去议题列表的相应一栏
const TOPIC_GROUPS = { vote_opened: 'voting', vote_closing: 'voting', topic_published: 'decided' }
const PAGE = /^\/pages\/[a-z]+\/[a-z]+\?/

function view(n) {
  return {
    id: n.id,
    page: typeof n.page === 'string' && PAGE.test(n.page) ? n.page : '',
    topicsGroup: TOPIC_GROUPS[n.template] || '',
    title: n.title || '',
    body: n.body || '',
    ticketId: n.ticket_id || '',
    read: !!n.read,
    time: format.dateTime(n.created_at),
  }
}

Component({
  data: {
    items: [],
    unread: 0,
    nextCursor: null,
    loading: false,
    error: '',
  },

  lifetimes: {
    created() {
      this._raw = []
    },
  },

  methods: {
    onLoad() {
      return this.load()
    },

    onRetry() {
      return this.load()
    },

    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },

    onReachBottom() {
      if (this.data.nextCursor && !this.data.loading) this.load(this.data.nextCursor)
    },

    load(cursor) {
      this.setData({ loading: true, error: '' })
      return api
        .get('/notifications', { cursor })
        .then((res) => {
          const items = (res && res.items) || []
          this._raw = cursor ? this._raw.concat(items) : items
          this.setData({
            items: this._raw.map(view),
            unread: (res && res.unread) || 0,
            nextCursor: (res && res.next_cursor) || null,
            loading: false,
          })
        })
        .catch((err) => this.setData({ loading: false, error: api.messageFor(err) }))
    },

    onOpen(e) {
      const id = e.currentTarget.dataset.id
      const item = this.data.items.find((n) => String(n.id) === String(id))
      if (!item) return Promise.resolve()
      let marking = Promise.resolve()
      if (!item.read) {
        const items = this.data.items.map((n) => (n.id === item.id ? Object.assign({}, n, { read: true }) : n))
        this.setData({ items, unread: Math.max(0, this.data.unread - 1) })
        // 服务器回答还剩几条没看
        marking = api
          .post(`/notifications/${item.id}/read`)
          .then((res) => {
            if (res && typeof res.unread === 'number') this.setData({ unread: res.unread })
          })
          .catch(() => {})
      }
      if (item.page) wx.navigateTo({ url: item.page })
      else if (item.ticketId) wx.navigateTo({ url: `/pages/ticket/ticket?id=${item.ticketId}` })
      else if (item.topicsGroup) wx.navigateTo({ url: `/pages/topics/list?group=${item.topicsGroup}` })
      return marking
    },

    onReadAll() {
      if (!this.data.unread) return Promise.resolve()
      return api
        .post('/notifications/read-all')
        .then((res) => {
          const items = this.data.items.map((n) => Object.assign({}, n, { read: true }))
          this.setData({ items, unread: (res && res.unread) || 0 })
        })
        .catch((err) => api.showError(err))
    },

    onLoadMore() {
      this.onReachBottom()
    },
  },
})
