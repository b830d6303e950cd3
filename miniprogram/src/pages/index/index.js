// 首页：一个大大的“我要反映”，附近的反映（地图和列表），我的反映，消息，工作台入口。
const api = require('../../utils/api')
const session = require('../../utils/session')
const format = require('../../utils/format')
const privacyBehavior = require('../../behaviors/privacy')

const NEARBY_RADIUS = 1000

Component({
  behaviors: [privacyBehavior],

  data: {
    isStaff: false,
    signedOut: false,
    signingIn: false,
    unread: 0,
    tab: 'nearby',
    located: false,
    latitude: 0,
    longitude: 0,
    markers: [],
    nearby: [],
    nearbyMessage: '',
    mine: [],
    mineCursor: null,
    mineLoading: false,
    mineError: '',
  },

  lifetimes: {
    created() {
      this._markerIds = []
      this._mine = []
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
      return Promise.all([this.loadMe(), this.loadUnread(), this.loadMine(), this.loadNearby()])
    },

    onShow() {
      // 从反映页、详情页回来时更新
      if (!this._loaded || this.data.signedOut) return
      this.loadUnread()
      this.loadMine()
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
        return
      }
      Promise.all([this.loadUnread(), this.loadMine(), this.loadNearby()]).then(() =>
        wx.stopPullDownRefresh()
      )
    },

    onReachBottom() {
      if (this.data.tab === 'mine' && this.data.mineCursor && !this.data.mineLoading) {
        this.loadMine(this.data.mineCursor)
      }
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

    // 我的反映：居民没有岗位时 scope=mine 就是自己提交的
    loadMine(cursor) {
      this.setData({ mineLoading: true, mineError: '' })
      return api
        .get('/tickets', { scope: 'mine', limit: 20, cursor })
        .then((res) => {
          const items = (res && res.items) || []
          this._mine = cursor ? this._mine.concat(items) : items
          this.setData({
            mine: this._mine.map((t) => format.ticketView(t)),
            mineCursor: (res && res.next_cursor) || null,
            mineLoading: false,
          })
        })
        .catch((err) => this.setData({ mineLoading: false, mineError: api.messageFor(err) }))
    },

    loadNearby() {
      return this.ensurePrivacy().then((ok) => {
        if (!ok) {
          this.setData({ nearbyMessage: '同意使用位置后，可以看到附近的反映' })
          return null
        }
        return new Promise((resolve) => {
          wx.getLocation({
            type: 'gcj02',
            success: (pos) => resolve(pos),
            fail: () => resolve(null),
          })
        }).then((pos) => {
          if (!pos) {
            this.setData({ nearbyMessage: '没能定位，看不到附近的反映' })
            return null
          }
          this.setData({ located: true, latitude: pos.latitude, longitude: pos.longitude, nearbyMessage: '' })
          // 地图接口按方框查（min_lat、min_lng、max_lat、max_lng），坐标用微信的 gcj02
          const query = Object.assign(format.boxAround(pos.latitude, pos.longitude, NEARBY_RADIUS), {
            coord: 'gcj02',
          })
          return api
            .get('/tickets/map', query)
            .then((res) => this.showNearby((res && res.items) || [], pos))
            .catch((err) => this.setData({ nearbyMessage: api.messageFor(err) }))
        })
      })
    },

    // 方框的四角超出 1 公里：按距离算一遍，只留 1 公里内的，近的在前
    showNearby(items, pos) {
      const withDistance = items
        .map((t) =>
          Object.assign({}, t, { distance_m: format.metersBetween(pos.latitude, pos.longitude, t.lat, t.lng) })
        )
        .filter((t) => t.distance_m <= NEARBY_RADIUS)
      withDistance.sort((a, b) => a.distance_m - b.distance_m)
      this._markerIds = withDistance.map((t) => t.id)
      const markers = withDistance.map((t, i) => ({
        id: i,
        latitude: t.lat,
        longitude: t.lng,
        iconPath: '/images/marker.png',
        width: 36,
        height: 36,
        callout: {
          content: `${(t.category && t.category.name) || '反映'} · ${t.status_label || ''}`,
          fontSize: 16,
          padding: 8,
          borderRadius: 6,
          display: 'BYCLICK',
        },
      }))
      this.setData({
        markers,
        nearby: withDistance.map((t) => format.ticketView(t)),
        nearbyMessage: withDistance.length ? '' : '附近1公里内还没有人反映问题',
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

    onStaff() {
      wx.navigateTo({ url: '/pages/staff/staff' })
    },

    onPrivacy() {
      wx.navigateTo({ url: '/pages/privacy/privacy' })
    },
  },
})
