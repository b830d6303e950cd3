// 各单位每月的成绩单（响应率、解决率、满意率）和定期通报。
const api = require('../../utils/api')
const session = require('../../utils/session')
const format = require('../../utils/format')

function periodLabel(period) {
  const m = /^(\d{4})-(\d{2})$/.exec(period || '')
  return m ? `${m[1]}年${Number(m[2])}月` : period || ''
}

Component({
  data: {
    units: [],
    unitIndex: -1,
    unitName: '',
    period: '',
    periodText: '',
    thisMonth: '',
    stats: null,
    loading: false,
    error: '',
    // error 来自加载失败（给“再试一次”），不是“请先选一个单位”
    loadFailed: false,
    bulletins: [],
  },

  methods: {
    onLoad(query) {
      const thisMonth = format.month()
      const period = (query && query.period) || thisMonth
      this.setData({ period, periodText: periodLabel(period), thisMonth })
      this._unitId = (query && query.unit) || ''
      return Promise.all([this.loadUnits(), this.loadBulletins()]).then(() => this.loadStats())
    },

    // 可选的单位：自己岗位所在单位在前，再加上全部单位
    loadUnits() {
      const own = session.posts().map((p) => p.unit).filter(Boolean)
      this._unitsError = null
      return api
        .get('/units', { limit: 200 })
        .then((res) => (res && res.items) || [])
        .catch((err) => {
          this._unitsError = err
          return []
        })
        .then((all) => {
          const seen = {}
          const units = []
          own.concat(all).forEach((u) => {
            if (!u || seen[u.id]) return
            seen[u.id] = true
            units.push({ id: u.id, name: u.name })
          })
          let unitIndex = units.findIndex((u) => String(u.id) === String(this._unitId))
          if (unitIndex < 0 && this._unitId) {
            units.unshift({ id: this._unitId, name: '' })
            unitIndex = 0
          }
          if (unitIndex < 0 && units.length) unitIndex = 0
          this.setData({ units, unitIndex, unitName: unitIndex >= 0 ? units[unitIndex].name : '' })
        })
    },

    loadStats() {
      const unit = this.data.units[this.data.unitIndex]
      if (!unit) {
        // 单位列表没取到（网络）时给“再试一次”，否则请用户选
        const err = this._unitsError
        this.setData({ stats: null, error: err ? api.messageFor(err) : '请先选一个单位', loadFailed: !!err })
        return Promise.resolve()
      }
      this.setData({ loading: true, error: '', loadFailed: false })
      return api
        .get(`/stats/units/${unit.id}`, { period: this.data.period })
        .then((s) => {
          const name = (s.unit && s.unit.name) || unit.name
          this.setData({
            loading: false,
            unitName: name,
            periodText: s.period_label || this.data.periodText,
            stats: {
              received: s.received || 0,
              responseRate: format.percent(s.response_rate),
              resolutionRate: format.percent(s.resolution_rate),
              satisfactionRate: format.percent(s.satisfaction_rate),
              unrated: s.unrated || 0,
              overdue: s.overdue || 0,
              ranked: !!s.ranked,
              // 在同一上级的几个单位里排第几
              rankText: s.ranked && s.rank ? `在${s.ranked_among || ''}个单位中排第${s.rank}名` : '',
              minTickets: s.min_tickets || 0,
            },
          })
        })
        .catch((err) => this.setData({ loading: false, stats: null, error: api.messageFor(err), loadFailed: true }))
    },

    onRetry() {
      const units = this.data.units.length ? Promise.resolve() : this.loadUnits()
      return units.then(() => this.loadStats())
    },

    onPullDownRefresh() {
      return Promise.all([this.loadStats(), this.loadBulletins()]).then(() => wx.stopPullDownRefresh())
    },

    // 转发这张成绩单：打开的是同一单位、同一月份的成绩单
    onShareAppMessage() {
      const unit = this.data.units[this.data.unitIndex]
      const query = unit ? `unit=${unit.id}&period=${this.data.period}` : `period=${this.data.period}`
      return { title: `${this.data.unitName}${this.data.periodText}成绩单`, path: `/pages/stats/stats?${query}` }
    },

    loadBulletins() {
      return api
        .get('/bulletins')
        .then((res) => {
          const bulletins = ((res && res.items) || []).map((b) => ({
            id: b.id,
            title: b.title,
            period: b.period,
            periodText: b.period_label || periodLabel(b.period),
            time: format.date(b.published_at),
          }))
          this.setData({ bulletins })
        })
        .catch(() => this.setData({ bulletins: [] }))
    },

    onPickUnit(e) {
      const unitIndex = Number(e.detail.value)
      this.setData({ unitIndex, unitName: this.data.units[unitIndex].name })
      this.loadStats()
    },

    onPickPeriod(e) {
      const period = e.detail.value
      this.setData({ period, periodText: periodLabel(period) })
      this.loadStats()
    },

    onOpenBulletin(e) {
      wx.navigateTo({ url: `/pages/bulletin/bulletin?id=${e.currentTarget.dataset.id}` })
    },
  },
})
