// 一期通报：各单位的三率排名与说明。
const api = require('../../utils/api')
const format = require('../../utils/format')

function rowOf(r) {
  const unit = r.unit || {}
  return {
    id: unit.id || r.unit_id || r.name,
    name: unit.name || r.name || '',
    received: r.received || 0,
    responseRate: format.percent(r.response_rate),
    resolutionRate: format.percent(r.resolution_rate),
    satisfactionRate: format.percent(r.satisfaction_rate),
  }
}

Component({
  data: {
    loading: true,
    error: '',
    bulletin: null,
    rows: [],
  },

  methods: {
    onLoad(query) {
      const id = query && query.id
      return api
        .get(`/bulletins/${id}`)
        .then((b) => {
          const rows = (b.units || b.items || []).map(rowOf)
          this.setData({
            loading: false,
            bulletin: {
              title: b.title || '通报',
              period: b.period || '',
              time: format.date(b.published_at),
              body: b.body || b.summary || '',
            },
            rows,
          })
          wx.setNavigationBarTitle({ title: b.title || '通报' })
        })
        .catch((err) => this.setData({ loading: false, error: api.messageFor(err) }))
    },
  },
})
