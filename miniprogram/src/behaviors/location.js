// Pages that use the resident's position: ask when it is used (privacy first), share one fix
// (utils/location), and after a refusal point to WeChat's settings page.
// Use together with the privacy behavior (this.ensurePrivacy).
const location = require('../utils/location')

module.exports = Behavior({
  data: {
    locationDenied: false,
  },
  methods: {
    // Promise<fix|null>; after null, this.locationFailure says why: 'privacy' | 'denied' | 'system' | 'failed'
    fixLocation(options) {
      this.locationFailure = ''
      return this.ensurePrivacy().then((ok) => {
        if (!ok) {
          this.locationFailure = 'privacy'
          return null
        }
        return location.locate(options).then(
          (fix) => {
            if (this.data.locationDenied) this.setData({ locationDenied: false })
            return fix
          },
          (err) => {
            this.locationFailure = err && err.denied ? 'denied' : err && err.systemOff ? 'system' : 'failed'
            if (err && err.denied) this.setData({ locationDenied: true })
            return null
          }
        )
      })
    },

    onOpenLocationSetting() {
      return location.openSettings().then((allowed) => {
        if (!allowed) return
        this.setData({ locationDenied: false })
        if (typeof this.onLocationAllowed === 'function') this.onLocationAllowed()
      })
    },
  },
})
