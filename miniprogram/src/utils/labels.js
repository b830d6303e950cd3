// 界面上用到的中文说法，集中放在这里，便于统一措辞。

const STATUS = {
  submitted: '待受理',
  accepted: '已受理',
  deliberating: '议题中',
  assigned: '已派单',
  in_progress: '办理中',
  resolved: '已办结',
  closed: '已关闭',
  returned: '已退回',
  withdrawn: '已撤回',
}

// 时间线上每一步的说法
const ACTION = {
  submit: '提交反映',
  create: '提交反映',
  accept: '受理',
  return: '退回',
  transfer: '转给其他单位',
  withdraw: '撤回',
  propose: '提为议题',
  assign: '派单',
  progress: '进展',
  resolve: '办结答复',
  rate: '评价',
  close: '关闭',
  reopen: '重新办理',
  escalate: '上级督办',
  support: '有人也遇到了',
  remind: '提醒',
}

const ROLE = {
  resident: '居民',
  reporter: '反映人',
  grid_worker: '网格员',
  cadre: '干部',
  unit_head: '负责人',
  deputy: '人大代表',
  admin: '管理员',
  system: '系统',
}

const RETURN_REASONS = [
  { value: 'out_of_scope', label: '不归我们管' },
  { value: 'duplicate', label: '重复反映' },
  { value: 'needs_info', label: '信息不够，请补充' },
  { value: 'invalid', label: '情况不属实' },
]

const RATINGS = [
  { value: 'satisfied', label: '满意' },
  { value: 'basically_satisfied', label: '基本满意' },
  { value: 'dissatisfied', label: '不满意' },
]

const PRIORITIES = [
  { value: 'normal', label: '一般' },
  { value: 'urgent', label: '紧急' },
]

// 问题类型的图标：一个大字加一种底色（不用图片，任何手机都清楚）
const ICONS = {
  streetlight: { glyph: '灯', color: '#8a5a00' },
  water: { glyph: '水', color: '#0b5cad' },
  road: { glyph: '路', color: '#4a4a4a' },
  garbage: { glyph: '垃', color: '#1f6b2a' },
  greenery: { glyph: '绿', color: '#2e7d32' },
  noise: { glyph: '噪', color: '#6a1b9a' },
  parking: { glyph: '车', color: '#00695c' },
  safety: { glyph: '安', color: '#b3261e' },
  building: { glyph: '楼', color: '#5d4037' },
  elevator: { glyph: '梯', color: '#37474f' },
  drain: { glyph: '管', color: '#01579b' },
  power: { glyph: '电', color: '#9a6700' },
  dispute: { glyph: '和', color: '#ad1457' },
  other: { glyph: '其', color: '#455a64' },
}

function statusLabel(status) {
  return STATUS[status] || '处理中'
}

function actionLabel(action) {
  return ACTION[action] || '处理'
}

function roleLabel(role) {
  return ROLE[role] || ''
}

function ratingLabel(value) {
  const r = RATINGS.find((x) => x.value === value)
  return r ? r.label : ''
}

function reasonLabel(value) {
  const r = RETURN_REASONS.find((x) => x.value === value)
  return r ? r.label : ''
}

function iconFor(icon, name) {
  if (ICONS[icon]) return ICONS[icon]
  const glyph = (name && name.charAt(0)) || '事'
  return { glyph, color: '#455a64' }
}

module.exports = {
  STATUS,
  ACTION,
  ROLE,
  RETURN_REASONS,
  RATINGS,
  PRIORITIES,
  ICONS,
  statusLabel,
  actionLabel,
  roleLabel,
  ratingLabel,
  reasonLabel,
  iconFor,
}
