// 首页：一个大大的“我要反映”，附近的反映（地图和列表），我的反映，消息，工作台入口。
// 位置在居民要看附近时才问，不在打开时问。
const api = require('../../utils/api')
const session = require('../../utils/session')
const format = require('../../utils/format')
const labels = require('../../utils/labels')
const location = require('../../utils/location')
const privacyBehavior = require('../../behaviors/privacy')
const locationBehavior = require('../../behaviors/location')

const NEARBY_RADIUS = 1000
// 地图拖得再大，也只查这么大的方框（半边长，米），免得一次拉太多
const MAX_BOX_RADIUS = 3000

function statusOf(filter) {
  const f = labels.MINE_FILTERS.find((x) => x.value === filter)
  return f ? f.status : []
}

Component({
  behaviors: [privacyBehavior, locationBehavior],

  data: {
    isStaff: false,
    signedOut: false,
    signingIn: false,
    unread: 0,
    tab: 'nearby',
    nearbyAsked: false,
    nearbyLoading: false,
    nearbyError: '',
    located: false,
    latitude: 0,
    longitude: 0,
    markers: [],
    legend: labels.MARKER_LEGEND,
    nearby: [],
    nearbyMessage: '',
    mineFilters: labels.MINE_FILTERS,
    mineFilter: 'all',
    toRateCount: 0,
    mine: [],
    mineCursor: null,
    mineLoading: false,
    mineError: '',
  },

  lifetimes: {
    created() {
      this._markerIds = []
      this._mine = []
      this._toRate = []
      this._mapSeq = 0
      this._mineSeq = 0
    },
  },

  methods: {
    onLoad() {
      // 刚注销了账号：不自动登录（不然马上又建一个新账号），等用户点“重新登录”
      if (session.isSignedOut()) {
        this.setData({ signedOut: true, isStaff: false })
        return Promise.resolve()
      }
      const user = session.getUser()
      this.setData({ isStaff: session.isStaff(user), signedOut: false })
      this._loaded = true
      const loads = [this.loadMe(), this.loadUnread(), this.loadMine()]
      // 刚定过位（例如刚反映完）就直接显示附近；否则等居民点“看看附近”
      if (location.recent()) loads.push(this.loadNearby())
      return Promise.all(loads)
    },

    onHide() {
      this._hidden = true
    },

    // 从反映页、详情页回来时更新（第一次显示紧跟 onLoad，不重复加载）
    onShow() {
      if (!this._hidden) return Promise.resolve()
      this._hidden = false
      if (!this._loaded || this.data.signedOut) return Promise.resolve()
      return Promise.all([this.loadUnread(), this.loadMine()])
    },

    onSignIn() {
      if (this.data.signingIn) return Promise.resolve()
      this.setData({ signingIn: true })
      return api
        .signIn()
        .then(() => {
          this.setData({ signingIn: false })
          return this.onLoad()
        })
        .catch((err) => {
          this.setData({ signingIn: false })
          api.showError(err)
        })
    },

    onPullDownRefresh() {
      if (this.data.signedOut) {
        wx.stopPullDownRefresh()
        return Promise.resolve()
      }
      const loads = [this.loadUnread(), this.loadMine()]
      if (this.data.nearbyAsked) loads.push(this.loadNearby())
      return Promise.all(loads).then(() => wx.stopPullDownRefresh())
    },

    onReachBottom() {
      if (this.data.tab === 'mine' && this.data.mineCursor && !this.data.mineLoading) {
        this.loadMine(this.data.mineCursor)
      }
    },

    onRetry(e) {
      const what = e && e.currentTarget && e.currentTarget.dataset.what
      return what === 'nearby' ? this.loadNearby() : this.loadMine()
    },

    loadMe() {
      return api
        .get('/me')
        .then((me) => {
          session.setUser(me)
          this.setData({ isStaff: session.isStaff(me) })
        })
        .catch(() => {})
    },

    loadUnread() {
      return api
        .get('/notifications', { limit: 1 })
        .then((res) => this.setData({ unread: (res && res.unread) || 0 }))
        .catch(() => {})
    },

    // —— 我的反映：居民没有岗位时 scope=mine 就是自己提交的；待评价的排在最前 ——
    loadMine(cursor) {
      const seq = ++this._mineSeq
      const filter = this.data.mineFilter
      this.setData({ mineLoading: true, mineError: '' })
      const list = api.get('/tickets', { scope: 'mine', limit: 20, cursor, status: statusOf(filter) })
      // 第一页时另取一次待评价的，放在最前（“全部”）并算出个数
      const toRate = cursor ? Promise.resolve(null) : api.get('/tickets', { scope: 'mine', limit: 20, status: ['resolved'] })
      return Promise.all([list, toRate])
        .then(([res, rateRes]) => {
          if (seq !== this._mineSeq) return
          const items = (res && res.items) || []
          if (rateRes) this._toRate = ((rateRes && rateRes.items) || []).filter((t) => format.ticketView(t).toRate)
          this._mine = cursor ? this._mine.concat(items) : items
          let shown = this._mine
          if (filter === 'rate') shown = this._toRate
          else if (filter === 'all') {
            const first = this._toRate.map((t) => t.id)
            shown = this._toRate.concat(this._mine.filter((t) => first.indexOf(t.id) < 0))
          }
          this.setData({
            mine: shown.map((t) => format.ticketView(t)),
            toRateCount: this._toRate.length,
            mineCursor: filter === 'rate' ? null : (res && res.next_cursor) || null,
            mineLoading: false,
          })
        })
        .catch((err) => {
          if (seq === this._mineSeq) this.setData({ mineLoading: false, mineError: api.messageFor(err) })
        })
    },

    onPickFilter(e) {
      const mineFilter = e.currentTarget.dataset.value
      if (mineFilter === this.data.mineFilter) return Promise.resolve()
      this.setData({ mineFilter, mine: [], mineCursor: null })
      return this.loadMine()
    },

    // —— 附近的反映 ——
    onShowNearby() {
      return this.loadNearby()
    },

    onLocationAllowed() {
      return this.loadNearby()
    },

    loadNearby() {
      this.setData({ nearbyAsked: true, nearbyLoading: true, nearbyError: '', nearbyMessage: '' })
      return this.fixLocation().then((fix) => {
        if (!fix) {
          const why = {
            privacy: '同意使用位置后，可以看到附近的反映',
            denied: '没有打开定位，看不到附近的反映',
            system: '手机的定位没有打开，请在手机设置里打开后再看',
          }
          this.setData({ nearbyLoading: false, nearbyMessage: why[this.locationFailure] || '没能定位，看不到附近的反映' })
          return null
        }
        this.setData({ located: true, latitude: fix.lat, longitude: fix.lng })
        this._center = { lat: fix.lat, lng: fix.lng }
        return this.loadBox(format.boxAround(fix.lat, fix.lng, NEARBY_RADIUS), this._center, NEARBY_RADIUS)
      })
    },

    // 地图接口按方框查（min_lat、min_lng、max_lat、max_lng），坐标用微信的 gcj02
    loadBox(box, center, radius) {
      const seq = ++this._mapSeq
      this.setData({ nearbyLoading: true, nearbyError: '' })
      return api
        .get('/tickets/map', Object.assign({}, box, { coord: 'gcj02' }))
        .then((res) => {
          if (seq === this._mapSeq) this.showNearby((res && res.items) || [], center, radius)
        })
        .catch((err) => {
          if (seq === this._mapSeq) this.setData({ nearbyLoading: false, nearbyError: api.messageFor(err) })
        })
    },

    // 拖动、缩放地图后，按新的范围重新查
    onRegionChange(e) {
      const detail = (e && e.detail) || {}
      const type = e.type === 'end' || detail.type === 'end' ? 'end' : e.type
      const cause = e.causedBy || detail.causedBy
      if (type !== 'end' || cause === 'update' || !this.data.located) return Promise.resolve()
      return this.regionOf(detail).then((region) => {
        if (!region) return null
        const ne = region.northeast
        const sw = region.southwest
        const center = { lat: (ne.latitude + sw.latitude) / 2, lng: (ne.longitude + sw.longitude) / 2 }
        const halfHeight = ((ne.latitude - sw.latitude) / 2) * 111320
        const radius = Math.min(Math.max(halfHeight, 200), MAX_BOX_RADIUS)
        this._center = center
        return this.loadBox(format.boxAround(center.lat, center.lng, radius), center, radius)
      })
    },

    regionOf(detail) {
      if (detail.region && detail.region.northeast) return Promise.resolve(detail.region)
      return new Promise((resolve) => {
        wx.createMapContext('map', this).getRegion({ success: resolve, fail: () => resolve(null) })
      })
    },

    // 方框的四角超出半径：按距离算一遍，只留半径内的，近的在前
    showNearby(items, center, radius) {
      const withDistance = items
        .map((t) => Object.assign({}, t, { distance_m: format.metersBetween(center.lat, center.lng, t.lat, t.lng) }))
        .filter((t) => t.distance_m <= radius)
      withDistance.sort((a, b) => a.distance_m - b.distance_m)
      this._markerIds = withDistance.map((t) => t.id)
      const markers = withDistance.map((t, i) => {
        const text = `${(t.category && t.category.name) || '反映'} · ${t.status_label || labels.statusLabel(t.status)}`
        return {
          id: i,
          latitude: t.lat,
          longitude: t.lng,
          iconPath: labels.markerIcon(t.status),
          width: 36,
          height: 36,
          ariaLabel: text,
          callout: { content: text, fontSize: 16, padding: 8, borderRadius: 6, display: 'BYCLICK' },
        }
      })
      this.setData({
        markers,
        nearbyLoading: false,
        nearby: withDistance.map((t) => format.ticketView(t)),
        nearbyMessage: withDistance.length ? '' : radius === NEARBY_RADIUS ? '附近1公里内还没有人反映问题' : '这一片还没有人反映问题',
      })
    },

    onMarkerTap(e) {
      const id = this._markerIds[e.detail.markerId]
      if (id !== undefined) wx.navigateTo({ url: `/pages/ticket/ticket?id=${id}` })
    },

    onPickTab(e) {
      this.setData({ tab: e.currentTarget.dataset.tab })
    },

    onReport() {
      wx.navigateTo({ url: '/pages/report/report' })
    },

    onOpen(e) {
      wx.navigateTo({ url: `/pages/ticket/ticket?id=${e.currentTarget.dataset.id}` })
    },

    onNotifications() {
      wx.navigateTo({ url: '/pages/notifications/notifications' })
    },

    onStats() {
      wx.navigateTo({ url: '/pages/stats/stats' })
    },

    onTopics() {
      wx.navigateTo({ url: '/pages/topics/list' })
    },

    onStaff() {
      wx.navigateTo({ url: '/pages/staff/staff' })
    },

    onPrivacy() {
      wx.navigateTo({ url: '/pages/privacy/privacy' })
    },
  },
})
