// 大家的事大家议：一个单位的议题，分“议题征集中 / 投票中 / 已决定”三栏。
const api = require('../../utils/api')
const session = require('../../utils/session')
const topics = require('../../utils/topics')

// 先看哪个单位：链接带的 → 刚才看过的 → 自己岗位所在的 → 单位树里第一个社区
function defaultUnit(query, units) {
  const wanted = Number(query && query.unit_id)
  if (wanted) return units.find((u) => u.id === wanted) || { id: wanted, name: '' }
  const seen = topics.getUnit()
  if (seen) return seen
  const post = session.posts()[0]
  if (post && post.unit) return post.unit
  return units[0] || null
}

Component({
  data: {
    groups: topics.GROUPS,
    group: 'open',
    canPropose: false,
    unit: null,
    unitNames: [],
    unitIndex: 0,
    items: [],
    nextCursor: null,
    loading: false,
    error: '',
  },

  lifetimes: {
    created() {
      this._units = []
      this._seq = 0
      this._query = {}
    },
  },

  methods: {
    onLoad(query) {
      this._query = query || {}
      const known = topics.GROUPS.concat([topics.DRAFT_GROUP])
      const group = known.some((g) => g.key === this._query.group) ? this._query.group : 'open'
      this.setData({ group })
      return this.start()
    },

    onShow() {
      // 从议题页回来：阶段可能变了
      if (this._loadedOnce) this.reload()
    },

    onPullDownRefresh() {
      return this.refresh().then(() => wx.stopPullDownRefresh())
    },

    onReachBottom() {
      if (this.data.nextCursor && !this.data.loading) return this.fetch(this.data.nextCursor)
      return Promise.resolve()
    },

    onLoadMore() {
      return this.onReachBottom()
    },

    onRetry() {
      return this.refresh()
    },

    refresh() {
      return this.data.unit ? this.reload() : this.start()
    },

    // 单位树（选单位用），再取议题
    start() {
      this.setData({ loading: true, error: '' })
      return topics
        .loadUnits({ kind: 'community' })
        .then((units) => {
          this._units = units
          // 登录之后岗位才准：能提出议题的人多一栏“草拟”和“提出议题”
          const canPropose = topics.canPropose()
          this.setData({ canPropose, groups: canPropose ? topics.GROUPS.concat([topics.DRAFT_GROUP]) : topics.GROUPS })
          const unit = defaultUnit(this._query, units)
          if (!unit) {
            this.setData({ loading: false, error: '还没有可以查看的社区' })
            return null
          }
          this.useUnit(unit)
          return this.reload()
        })
        .catch((err) => {
          this.setData({ loading: false, error: api.messageFor(err) })
        })
    },

    useUnit(unit) {
      let known = this._units.find((u) => u.id === unit.id)
      const chosen = { id: unit.id, name: (known && known.name) || unit.name || '' }
      // 不是社区的（例如人大代表所在的街道）也放进可选的单位里，排在最前
      if (!known) {
        known = chosen
        this._units = [chosen].concat(this._units)
      }
      topics.setUnit(chosen)
      this.setData({
        unit: chosen,
        unitNames: this._units.map((u) => u.name),
        unitIndex: Math.max(0, this._units.indexOf(known)),
      })
      wx.setNavigationBarTitle({ title: chosen.name ? `${chosen.name}的议题` : '大家的事大家议' })
    },

    onPickUnit(e) {
      const unit = this._units[Number(e.detail.value)]
      if (!unit || (this.data.unit && unit.id === this.data.unit.id)) return Promise.resolve()
      this.useUnit(unit)
      return this.reload()
    },

    onPickGroup(e) {
      const group = e.currentTarget.dataset.key
      if (group === this.data.group) return Promise.resolve()
      this.setData({ group })
      return this.reload()
    },

    reload() {
      this._raw = []
      this.setData({ items: [], nextCursor: null })
      return this.fetch(null)
    },

    fetch(cursor) {
      const seq = ++this._seq
      this.setData({ loading: true, error: '' })
      return api
        .get('/topics', { unit_id: this.data.unit.id, group: this.data.group, limit: 20, cursor })
        .then((res) => {
          if (seq !== this._seq) return
          this._loadedOnce = true
          this._raw = this._raw.concat(res.items || [])
          this.setData({ loading: false, items: this._raw.map(topics.topicView), nextCursor: res.next_cursor || null })
        })
        .catch((err) => {
          if (seq !== this._seq) return
          this.setData({ loading: false, error: api.messageFor(err) })
        })
    },

    onOpen(e) {
      wx.navigateTo({ url: `/pages/topics/topic?id=${e.currentTarget.dataset.id}` })
    },

    onCreate() {
      wx.navigateTo({ url: `/pages/topics/create?unit_id=${this.data.unit.id}` })
    },

    onFollows() {
      wx.navigateTo({ url: '/pages/topics/follows' })
    },

    onHome() {
      wx.navigateTo({ url: '/pages/topics/home' })
    },
  },
})
