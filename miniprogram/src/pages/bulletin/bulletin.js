// 一期通报：各单位的三率与排名。服务器按层级给出（上级在前），同一上级下的单位按名次排好。
const api = require('../../utils/api')
const format = require('../../utils/format')

function rowOf(r) {
  const unit = r.unit || {}
  return {
    id: unit.id,
    name: unit.name || '',
    rankText: r.ranked && r.rank ? `第${r.rank}名` : '不排名',
    received: r.received || 0,
    responseRate: format.percent(r.response_rate),
    resolutionRate: format.percent(r.resolution_rate),
    satisfactionRate: format.percent(r.satisfaction_rate),
  }
}

// 按上级单位分组：“花桥街道下面的单位”，最上一级叫“全区”
function groupsOf(units) {
  const names = {}
  units.forEach((r) => {
    if (r.unit) names[r.unit.id] = r.unit.name
  })
  const groups = []
  units.forEach((r) => {
    const key = r.parent_id === null || r.parent_id === undefined || !names[r.parent_id] ? 'top' : r.parent_id
    let group = groups.find((g) => g.key === key)
    if (!group) {
      group = { key, title: key === 'top' ? '总体' : `${names[key]}下面的单位`, rows: [] }
      groups.push(group)
    }
    group.rows.push(rowOf(r))
  })
  return groups
}

Component({
  data: {
    loading: true,
    error: '',
    bulletin: null,
    groups: [],
  },

  methods: {
    onLoad(query) {
      this._id = query && query.id
      return this.load()
    },

    onRetry() {
      this.setData({ loading: true, error: '' })
      return this.load()
    },

    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh())
    },

    // 转发：打开的是这一期通报
    onShareAppMessage() {
      const b = this.data.bulletin
      return { title: (b && b.title) || '通报', path: `/pages/bulletin/bulletin?id=${this._id}` }
    },

    load() {
      const id = this._id
      return api
        .get(`/bulletins/${id}`)
        .then((b) => {
          this.setData({
            loading: false,
            bulletin: {
              title: b.title || '通报',
              periodText: b.period_label || b.period || '',
              time: format.date(b.published_at),
              minTickets: b.min_tickets || 0,
            },
            groups: groupsOf(b.units || []),
          })
          wx.setNavigationBarTitle({ title: b.title || '通报' })
        })
        .catch((err) => this.setData({ loading: false, error: api.messageFor(err) }))
    },
  },
})
