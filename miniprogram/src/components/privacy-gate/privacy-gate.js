const privacy = require('../../utils/privacy')

Component({
  options: { addGlobalClass: true },
  properties: {
    show: { type: Boolean, value: false },
  },
  methods: {
    onAgree() {
      this.triggerEvent('agree', { buttonId: 'agree-privacy' })
    },
    onDecline() {
      this.triggerEvent('decline')
    },
    onOpenContract() {
      privacy.openContract()
    },
  },
})
