// 登记住址：说明自己住在哪个小区（或社区）、哪一户，网格员或干部确认后就在投票的名册上。
const api = require('../../utils/api')
const topics = require('../../utils/topics')

const MAX_TEXT = 64

Component({
  data: {
    communities: [],
    communityNames: [],
    communityIndex: -1,
    compounds: [],
    compoundNames: [],
    compoundIndex: -1,
    household: '',
    name: '',
    maxText: MAX_TEXT,
    formError: '',
    sending: false,
    claims: [],
    loading: false,
    error: '',
  },

  lifetimes: {
    created() {
      this._units = {}
      this._compounds = []
      this._keys = api.intentKeys()
    },
  },

  methods: {
    onLoad() {
      return this.load()
    },

    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh())
    },

    onRetry() {
      return this.load()
    },

    load() {
      this.setData({ loading: true, error: '' })
      return Promise.all([
        topics.loadUnits({ kind: 'community' }),
        topics.loadUnits({ kind: 'compound' }),
        api.get('/roll/mine'),
      ])
        .then(([communities, compounds, mine]) => {
          this._compounds = compounds
          communities.concat(compounds).forEach((u) => {
            this._units[u.id] = u.name
          })
          this.setData({
            loading: false,
            communities,
            communityNames: communities.map((u) => u.name),
            claims: this.claimViews(mine.items || []),
          })
        })
        .catch((err) => this.setData({ loading: false, error: api.messageFor(err) }))
    },

    claimViews(items) {
      return items.map((e) => Object.assign(topics.rollView(e), { unitName: this._units[e.unit_id] || '' }))
    },

    onPickCommunity(e) {
      const index = Number(e.detail.value)
      const community = this.data.communities[index]
      if (!community) return
      const compounds = this._compounds.filter((u) => u.parent_id === community.id)
      this.setData({
        communityIndex: index,
        compounds,
        compoundNames: compounds.map((u) => u.name),
        compoundIndex: -1,
        formError: '',
      })
    },

    onPickCompound(e) {
      this.setData({ compoundIndex: Number(e.detail.value), formError: '' })
    },

    onHouseholdInput(e) {
      this.setData({ household: e.detail.value, formError: '' })
    },

    onNameInput(e) {
      this.setData({ name: e.detail.value })
    },

    // 选了小区就登记在小区，没有小区的登记在社区
    chosenUnit() {
      const d = this.data
      return d.compounds[d.compoundIndex] || d.communities[d.communityIndex] || null
    },

    onClaim() {
      if (this.data.sending) return Promise.resolve()
      const unit = this.chosenUnit()
      const household = (this.data.household || '').trim()
      if (!unit) {
        this.setData({ formError: '请选择您住的社区和小区' })
        return Promise.resolve()
      }
      if (!household) {
        this.setData({ formError: '请写上您家是几栋几单元几号' })
        return Promise.resolve()
      }
      const body = { unit_id: unit.id, household, name: (this.data.name || '').trim() }
      // 同样的内容再点用同一个键
      const intent = JSON.stringify(body)
      this.setData({ sending: true, formError: '' })
      return api
        .post('/roll/claims', body, { key: this._keys.key(intent) })
        .then((entry) => {
          this._keys.done(intent)
          const view = this.claimViews([entry])[0]
          const claims = [view].concat(this.data.claims.filter((c) => c.id !== entry.id))
          this.setData({ sending: false, household: '', claims })
          wx.showToast({ title: '已登记，等工作人员确认', icon: 'none', duration: 3000 })
        })
        .catch((err) => this.setData({ sending: false, formError: topics.refusal(err) }))
    },
  },
})
