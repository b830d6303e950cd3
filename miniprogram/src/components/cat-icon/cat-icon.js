// 问题类型的图标：彩色圆底上一个大字
const labels = require('../../utils/labels')

Component({
  options: { addGlobalClass: true },
  properties: {
    icon: { type: String, value: '' },
    name: { type: String, value: '' },
    size: { type: String, value: 'large' },
  },
  data: { glyph: '', color: '#455a64' },
  observers: {
    'icon, name'(icon, name) {
      const found = labels.iconFor(icon, name)
      this.setData({ glyph: found.glyph, color: found.color })
    },
  },
  lifetimes: {
    attached() {
      const found = labels.iconFor(this.data.icon, this.data.name)
      this.setData({ glyph: found.glyph, color: found.color })
    },
  },
})
