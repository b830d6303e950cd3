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

// 时间线上每一步的说法。动作名取自服务器（server/tickets/operations.py）。
const ACTION = {
  report: '提交反映',
  accept: '受理',
  return: '退回',
  transfer: '转给其他单位',
  withdraw: '撤回',
  propose: '提为议题',
  assign: '派单',
  progress: '进展',
  resolve: '办结答复',
  redo: '不满意，重新办理',
  rate: '评价',
  close: '评价期已过，关闭',
  escalate: '超时，上级督办',
  merge: '合并了重复的反映',
}

// 岗位的说法（服务器也会给 role_label，有就用服务器的）
const ROLE = {
  resident: '居民',
  reporter: '反映人',
  assignee: '承办人',
  grid_worker: '网格员',
  cadre: '干部',
  unit_head: '单位负责人',
  deputy: '人大代表',
  admin: '管理员',
  member: '议事会成员',
  system: '系统',
}

// 退回的原因。not_adopted（不予采纳）只用于议题，其余只用于待受理的反映。
const RETURN_REASONS = [
  { value: 'out_of_scope', label: '不归我们管' },
  { value: 'duplicate', label: '重复反映' },
  { value: 'needs_info', label: '信息不够，请补充' },
  { value: 'invalid', label: '情况不属实' },
]
const NOT_ADOPTED = { value: 'not_adopted', label: '不予采纳' }

const RATINGS = [
  { value: 'satisfied', label: '满意' },
  { value: 'basically_satisfied', label: '基本满意' },
  { value: 'dissatisfied', label: '不满意' },
]

const PRIORITIES = [
  { value: 'normal', label: '一般' },
  { value: 'urgent', label: '紧急' },
]

// 问题类型的图标：一个大字加一种底色（不用图片，任何手机都清楚）。
// 键是服务器分类的 icon（GET /categories）。
const ICONS = {
  warning: { glyph: '险', color: '#b3261e' },
  water: { glyph: '水', color: '#0b5cad' },
  power: { glyph: '电', color: '#9a6700' },
  gas: { glyph: '气', color: '#bf360c' },
  heating: { glyph: '暖', color: '#c62828' },
  streetlight: { glyph: '灯', color: '#8a5a00' },
  road: { glyph: '路', color: '#4a4a4a' },
  garbage: { glyph: '洁', color: '#1f6b2a' },
  tree: { glyph: '绿', color: '#2e7d32' },
  noise: { glyph: '噪', color: '#6a1b9a' },
  parking: { glyph: '车', color: '#00695c' },
  building: { glyph: '楼', color: '#5d4037' },
  construction: { glyph: '建', color: '#6d4c41' },
  care: { glyph: '老', color: '#ad1457' },
}

// Map markers: one picture per group of statuses (tools/make-marker.js draws them)
const MARKER_GROUPS = {
  submitted: 'new',
  accepted: 'doing',
  deliberating: 'doing',
  assigned: 'doing',
  in_progress: 'doing',
  resolved: 'done',
  closed: 'other',
  returned: 'other',
  withdrawn: 'other',
}
const MARKER_LEGEND = [
  { group: 'new', label: '待受理' },
  { group: 'doing', label: '办理中' },
  { group: 'done', label: '已办结' },
  { group: 'other', label: '已关闭、退回' },
]

function markerIcon(status) {
  return `/images/marker-${MARKER_GROUPS[status] || 'other'}.png`
}

// 我的反映的筛选：status 是发给服务器的状态（空 = 全部）
const MINE_FILTERS = [
  { value: 'all', label: '全部', status: [] },
  { value: 'rate', label: '待评价', status: ['resolved'] },
  { value: 'open', label: '办理中', status: ['submitted', 'accepted', 'deliberating', 'assigned', 'in_progress'] },
  { value: 'done', label: '已办完', status: ['resolved', 'closed'] },
  { value: 'returned', label: '退回、撤回', status: ['returned', 'withdrawn'] },
]

// Quick phrases per category (by the server's icon): one tap fills the sentence
const PHRASES = {
  streetlight: ['路灯不亮', '路灯白天一直亮着', '灯杆歪了'],
  road: ['路面有坑', '井盖松了或丢了', '人行道砖坏了'],
  garbage: ['垃圾没人清', '垃圾桶满了', '有难闻的味道'],
  water: ['停水了', '水管漏水', '下水道堵了'],
  power: ['停电了', '电线乱拉', '电表箱坏了'],
  gas: ['闻到燃气味', '燃气管道坏了'],
  heating: ['暖气不热', '暖气漏水'],
  tree: ['树枝挡路', '树倒了', '绿地被占'],
  noise: ['晚上很吵', '施工噪音大'],
  parking: ['乱停车', '车堵住了消防通道', '占了盲道'],
  building: ['墙皮掉落', '楼道灯坏了', '电梯坏了'],
  construction: ['违章搭建', '工地没围挡'],
  care: ['老人需要帮助', '独居老人好几天没出门'],
  warning: ['有安全隐患', '有人受伤了'],
}
const DEFAULT_PHRASES = ['需要尽快处理', '已经好几天了']

function phrasesFor(icon) {
  return PHRASES[icon] || DEFAULT_PHRASES
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
  const r = RETURN_REASONS.concat([NOT_ADOPTED]).find((x) => x.value === value)
  return r ? r.label : ''
}

// 这一状态下退回能选的原因：议题只能“不予采纳”，待受理的不能
function returnReasonsFor(status) {
  return status === 'deliberating' ? [NOT_ADOPTED] : RETURN_REASONS
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
  NOT_ADOPTED,
  RATINGS,
  PRIORITIES,
  ICONS,
  statusLabel,
  actionLabel,
  roleLabel,
  ratingLabel,
  reasonLabel,
  returnReasonsFor,
  iconFor,
  phrasesFor,
  MARKER_LEGEND,
  markerIcon,
  MINE_FILTERS,
}
