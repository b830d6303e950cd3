// 工作人员的任务箱：我的任务、本单位、督办（负责人）、议题（人大代表），带期限倒计时。
const api = require('../../utils/api')
const session = require('../../utils/session')
const format = require('../../utils/format')

const STATUS_FILTERS = [
  { value: '', label: '全部' },
  { value: 'submitted', label: '待受理' },
  { value: 'accepted', label: '已受理' },
  { value: 'assigned', label: '已派单' },
  { value: 'in_progress', label: '办理中' },
  { value: 'resolved', label: '已办结' },
]

function tabsFor(user) {
  const tabs = [
    { key: 'mine', label: '我的任务' },
    { key: 'unit', label: '本单位' },
  ]
  if (session.hasRole('unit_head', user) || session.hasRole('admin', user)) {
    tabs.push({ key: 'supervise', label: '督办' })
  }
  if (session.hasRole('deputy', user)) tabs.push({ key: 'deliberate', label: '议题' })
  return tabs
}

// 能审核被拦下的反映的岗位（服务器 moderation.MODERATORS；人大代表不审核）
const MODERATOR_ROLES = ['grid_worker', 'cadre', 'unit_head', 'admin']

function canModerate(user) {
  return MODERATOR_ROLES.some((role) => session.hasRole(role, user))
}

function queryFor(tab, status) {
  switch (tab) {
    case 'supervise':
      // 督办：超时后转到本单位（及下级）督办的事项
      return { scope: 'supervision' }
    case 'deliberate':
      return { scope: 'unit', status: 'deliberating' }
    case 'unit':
      return { scope: 'unit', status }
    default:
      return { scope: 'mine', status }
  }
}

Component({
  data: {
    tabs: [],
    tab: 'mine',
    filters: STATUS_FILTERS,
    status: '',
    showFilters: true,
    items: [],
    overdueCount: 0,
    loading: false,
    nextCursor: null,
    error: '',
    notStaff: false,
    canModerate: false,
  },

  lifetimes: {
    created() {
      this._raw = []
      this._seq = 0
    },
    detached() {
      this.stopClock()
    },
  },

  methods: {
    onLoad(query) {
      const user = session.getUser()
      const tabs = tabsFor(user)
      const wanted = query && query.tab
      const tab = tabs.some((t) => t.key === wanted) ? wanted : 'mine'
      this.setData({ tabs, tab, showFilters: tab === 'mine' || tab === 'unit', canModerate: canModerate(user) })
      // 岗位可能变了：以服务器为准
      return api
        .get('/me')
        .then((me) => {
          session.setUser(me)
          if (!session.isStaff(me)) {
            this.setData({ notStaff: true, tabs: [], canModerate: false })
            return null
          }
          const fresh = tabsFor(me)
          const keep = fresh.some((t) => t.key === this.data.tab) ? this.data.tab : 'mine'
          this.setData({
            tabs: fresh,
            tab: keep,
            showFilters: keep === 'mine' || keep === 'unit',
            canModerate: canModerate(me),
          })
          return this.reload()
        })
        .catch((err) => {
          api.showError(err)
          return this.reload()
        })
    },

    onShow() {
      this.startClock()
      if (this._loadedOnce) this.reload()
    },

    onHide() {
      this.stopClock()
    },

    onUnload() {
      this.stopClock()
    },

    onPullDownRefresh() {
      this.reload().then(() => wx.stopPullDownRefresh())
    },

    onReachBottom() {
      if (this.data.nextCursor && !this.data.loading) this.fetch(this.data.nextCursor)
    },

    // 每分钟刷新一次倒计时
    startClock() {
      this.stopClock()
      this._clock = setInterval(() => this.render(), 60 * 1000)
    },

    stopClock() {
      if (this._clock) clearInterval(this._clock)
      this._clock = null
    },

    onPickTab(e) {
      const tab = e.currentTarget.dataset.key
      if (tab === this.data.tab) return
      this.setData({ tab, status: '', showFilters: tab === 'mine' || tab === 'unit' })
      this.reload()
    },

    onPickStatus(e) {
      this.setData({ status: e.currentTarget.dataset.value })
      this.reload()
    },

    onRetry() {
      return this.reload()
    },

    reload() {
      this._raw = []
      this.setData({ items: [], nextCursor: null, overdueCount: 0 })
      return this.fetch(null)
    },

    fetch(cursor) {
      const seq = ++this._seq
      const query = Object.assign(queryFor(this.data.tab, this.data.status), { limit: 20, cursor })
      this.setData({ loading: true, error: '' })
      return api
        .get('/tickets', query)
        .then((res) => {
          if (seq !== this._seq) return
          this._loadedOnce = true
          this._raw = this._raw.concat((res && res.items) || [])
          this.setData({ loading: false, nextCursor: (res && res.next_cursor) || null })
          this.render()
        })
        .catch((err) => {
          if (seq !== this._seq) return
          this.setData({ loading: false, error: api.messageFor(err) })
        })
    },

    render() {
      const now = new Date()
      const items = this._raw.map((t) => format.ticketView(t, now))
      this.setData({ items, overdueCount: items.filter((t) => t.overdue).length })
    },

    onOpen(e) {
      wx.navigateTo({ url: `/pages/ticket/ticket?id=${e.currentTarget.dataset.id}` })
    },

    onLoadMore() {
      this.onReachBottom()
    },

    onModeration() {
      wx.navigateTo({ url: '/pages/moderation/moderation' })
    },

    // 确认住址的岗位与审核的相同（服务器：网格员、干部；负责人、管理员）
    onClaims() {
      wx.navigateTo({ url: '/pages/topics/claims' })
    },

    onFollows() {
      wx.navigateTo({ url: '/pages/topics/follows' })
    },
  },
})
