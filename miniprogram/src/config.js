// 服务器地址：按小程序版本（开发版 / 体验版 / 正式版）区分。
// 上线前把 trial、release 改成已在小程序后台登记的 https 域名。
module.exports = {
  hosts: {
    develop: 'http://127.0.0.1:8000',
    trial: 'https://gongzhi-trial.example.cn',
    release: 'https://gongzhi.example.cn',
  },
  apiPrefix: '/api/v1',
  // 仅开发版：服务器开着 DEV_LOGIN 时，填一个名字（如 'zhang'）就用 dev:<名字> 登录，
  // 不调用 wx.login。留空则照常用 wx.login。
  devLoginName: '',
  // 网络断开时自动重试的次数（重试沿用同一个 Idempotency-Key）
  networkRetries: 2,
  // 第 n 次重试前等待 n × retryDelayMs 毫秒
  retryDelayMs: 800,
  timeoutMs: 15000,
  // 照片上传：弱 3G 上行约 100kbps，一张压缩过的照片（约 500KB）要 40 秒上下，留足余量
  uploadTimeoutMs: 90000,
  // GET 遇到这些状态（网关暂时不可用）也像断网一样重试
  retryStatuses: [502, 503, 504],
  // 共用的定位结果在这段时间内直接用，不再定位
  locationMaxAgeMs: 2 * 60 * 1000,
  // 没提交的反映草稿在手机上最多留几天
  draftMaxAgeMs: 7 * 24 * 3600 * 1000,
  // 可能有危险的问题类型：按服务器分类的 code、icon 或名称里的字认出来，先给出要打的电话
  emergencies: [
    { codes: ['fire'], icons: ['fire'], words: ['火灾', '着火', '起火', '失火'], number: '119', title: '着火、冒烟', advice: '请先离开危险的地方，马上打119。' },
    { codes: ['gas', 'gas_leak'], icons: ['gas'], words: ['燃气', '煤气', '天然气'], number: '119', title: '燃气泄漏', advice: '不要开关电器、不要点火，开窗后离开，到外面打119。' },
    { codes: ['live_wire', 'power_line'], icons: [], words: ['电线', '漏电', '触电'], number: '95598', title: '电线断落、漏电', advice: '离电线至少10米，不要靠近，马上打供电抢修电话95598；有人触电请打120。' },
  ],
  // 订阅消息模板列表的缓存时间
  templatesCacheMs: 24 * 3600 * 1000,
}
