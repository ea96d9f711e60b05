// The supervision workbench: one page, no framework, no build step. Chinese labels with an
// English switch (the TEXT tables). The page asks GET /api/v1/me who the token is and shapes
// itself by the answer: the sections a role may read and only the buttons of the acts it may
// perform (listed by the server from its one table of roles, never restated here).
//
// - The board: the overview table (GET /api/v1/overview: per department and town, open red and
//   yellow cards and warnings, overdue, due this week, the month's on-time rate with its
//   denominator), sortable by any column, filtered by org, rule and severity; a row lists that
//   org's open cards a page at a time (GET /api/v1/alerts with its cursor), so the board stays
//   one screen tall however many cards are open. A card opens its case.
// - The case: its state, its timeline (Chinese event names, local times), its alerts, its
//   ledger entries (GET /api/v1/cases/{id}/ledger) and its evidence pack (GET
//   /api/v1/cases/{id}/evidence: what `jiancha evidence` prints, fetched with the token's header
//   and saved through a Blob URL, since a plain link would not carry the header).
// - The 督办 board: open correction orders by due date, overdue first, escalations marked, each
//   escalated card linking to its 监察建议书.
// - Live alerts over Server-Sent Events (read with fetch, so the bearer token travels in a
//   header); the overview, the open card page and the charts are fetched again after alerts
//   arrive (throttled), and on a timer for a role without the stream.
// - Charts of the last 12 months (on-time, satisfaction, correction, rectification rates) as
//   inline SVG: months without data skipped, n beside every rate, the 95% and 100% targets
//   drawn; the ranking of the selected month with a CSV download of its rows and the server's
//   Excel workbook of the same report.
// - The insight (辅助决策) for the roles `/me` lists it for (GET /api/v1/insights): the
//   bottlenecks of a period as horizontal bars (p50 over p90 in working days, n in the label;
//   items, orgs or steps), the forecast of accepted cases beside its backtest and the backtest
//   error, the promised-limit recommendations and the hot spots as tables with their evidence
//   (n, percentiles, months read), and the server's Excel workbook of the same insight.
// - The cases due today or this week (GET /api/v1/cases?due_within=), and the server's clock in
//   the header (simulated under `demo --serve`).
'use strict';

const TEXT = {
  zh: {
    overview: '监察总览', filter_org: '机构', filter_rule: '规则', filter_severity: '级别', all: '全部',
    col_org: '部门/镇街', col_red: '红牌', col_yellow: '黄牌', col_warnings: '预警', col_overdue: '逾期',
    col_due_week: '本周到期', col_on_time: '按时办结率(n)', col_proc_red: '采购红牌', col_proc_yellow: '采购黄牌', col_rank: '名次', col_accepted: '受理',
    col_satisfaction: '满意率(n)', col_score: '得分', col_grade: '等级',
    cards: '红黄牌', cards_empty: '点击总览中的一行查看其红黄牌', prev: '上一页', next: '下一页',
    kind_approval: '审批', kind_procurement: '政府采购', project: '采购项目', method: '采购方式',
    budget: '预算（元）', deadlines: '法定期限', natural_days: '日', working_days: '工作日',
    page: '第{n}页', targets: '虚线：95% 与 100% 目标', ranking: '考核排名', download_csv: '下载报表 (CSV)', download_xlsx: '下载报表 (Excel)',
    evidence: '证据包', case_state: '案件状态', case_alerts: '预警与红黄牌',
    case_ledger: '考核台账', timeline: '办理过程', no_entries: '暂无', clock_simulated: '模拟时钟',
    clock_server: '服务器时间', open_case: '查看案件', department: '部门', town: '镇街',
    roles: { supervisor: '监察', center: '中心', unit: '单位', evaluator: '考核', local: '本机' },
    severities: { red: '红牌', yellow: '黄牌', warning: '预警' },
    events: {
      ItemDefined: '事项定义', OrgDefined: '机构定义', CalendarAmended: '日历调整', Submitted: '申请',
      CorrectionRequested: '补正告知', MaterialsSupplemented: '补正材料', Accepted: '受理',
      RejectedAtIntake: '不予受理', Transferred: '移交', StepCompleted: '环节办结', Suspended: '暂停',
      Resumed: '恢复', Extended: '延期', FeeCharged: '收费', Decided: '作出决定', Concluded: '办结',
      Withdrawn: '撤回', Rated: '评价', Complained: '投诉', CardIssued: '发牌', AlertAcknowledged: '签收',
      CorrectionOrdered: '督办', CorrectionCompleted: '回告', Exempted: '免责', AppealUpheld: '申诉成立',
      HistoryImported: '历史补录', PeriodClosed: '考核关账', CardWithdrawn: '撤牌', CorrectionVerified: '核查',
      RatingVerified: '差评核实', RatingRectified: '差评整改', RatingCallback: '回访',
      ComplaintAccepted: '投诉受理', ComplaintRejected: '投诉不予受理', ComplaintAnswered: '投诉答复',
      NotificationSent: '推送', NotificationFailed: '推送失败',
      ThresholdDefined: '公开招标数额标准', WorkflowLimitsDefined: '督办时限设定', ProcurementRegistered: '采购项目登记', DocumentsIssued: '发出采购文件', Clarified: '澄清修改', BidDeadlineSet: '投标截止时间', ObjectionFiled: '提出异议', ObjectionAnswered: '异议答复', BidsOpened: '开标', ExpertsDrawn: '抽取评审专家', EvaluationReported: '评审报告', ResultConfirmed: '确认采购结果', CandidatesPublicized: '中标候选人公示', ResultPublished: '结果公告', AwardNoticeIssued: '中标通知书', ContractSigned: '签订合同', ContractPublished: '合同公告', ContractFiled: '合同备案', AwardReported: '书面报告', SupplementalContract: '补充合同', BondTaken: '收取保证金', EnquiryFiled: '提出质疑', EnquiryAnswered: '质疑答复', ComplaintFiled: '采购投诉', ComplaintDecided: '投诉处理决定', Retendered: '重新招标', ProcurementClosed: '项目结束',
    },
    title: '行政审批电子监察', connect: '连接', token_placeholder: '访问令牌', live: '实时预警',
    live_empty: '暂无新预警', board: '红黄牌看板', departments: '区中心部门', towns: '镇街',
    other: '其他', charts: '近12个月按时办结率、满意率与整改率', depth: '机构层级',
    on_time_rate: '按时办结率', satisfaction_rate: '满意率', correction_rate: '督办按时整改率',
    rectification_rate: '差评整改率', lookup: '案件查询', search: '查询',
    raised: '发出', closed: '解除', withdrawn: '撤销', yellow: '黄牌', red: '红牌', acknowledge: '确认',
    acknowledged: '已确认', status_live: '实时', status_connecting: '连接中',
    status_idle: '未连接', status_error: '连接失败', status_offline: '离线', status_polling: '定时刷新',
    need_token: '请输入访问令牌', stream_refused: '实时预警暂不可用，改为每 30 秒刷新：{detail}',
    grades: { '优秀': '优秀', '良好': '良好', '合格': '合格', '不合格': '不合格' },
    chain_broken: '警告：日志哈希链在第 {p} 条处断裂，所示数据可能基于被篡改的事件。',
    no_data: '暂无数据', not_found: '未找到该案件', forbidden: '无权限', failed: '请求失败', unreachable: '无法连接服务器',
    kinds: {
      invalid: '请求有误', unauthorized: '令牌无效', forbidden: '无权限', not_found: '未找到', act_conflict: '与当前状态不符', id_reused: '编号已被占用',
      version_conflict: '版本冲突，请刷新后重试', period_conflict: '考核期无法关账或复核', too_many_requests: '请求过多，请稍后再试',
      request_timeout: '请求超时', unavailable: '服务暂不可用', internal: '服务器内部错误',
    },
    open_cards: '张未解除', item: '事项', org: '责任单位', state: '状态',
    promised_due_on: '承诺期限', statutory_due_on: '法定期限', used_days: '已用工作日',
    remaining_days: '剩余工作日', on_time: '按时办结', yes: '是', no: '否', lang: 'English',
    warning: '预警', prompts: '预警提示', prompts_empty: '暂无预警提示', month: '考核月份',
    period_closed: '已关账', period_open: '未关账',
    due_cases: '到期案件', due_today: '今日到期', due_week: '本周到期',
    due_empty: '点击查看今日或本周到期的案件', due_none: '没有到期的案件',
    rules: {
      'deadline.promised.warning': '承诺时限预警', 'deadline.promised.overdue': '超承诺时限',
      'deadline.statutory.overdue': '超法定时限', 'intake.correction.repeated': '多次补正',
      'intake.correction.late': '补正告知超期', 'intake.materials.incomplete': '材料不全受理',
      'procedure.step.skipped': '程序环节缺失', 'procedure.no_decision': '无决定办结',
      'suspension.unlawful': '违规暂停', 'fee.mismatch': '收费不符',
      'extension.excessive': '违规延期', 'case.stalled': '案件停滞', 'rating.bad': '差评',
      'data.backdated': '补录倒签', 'intake.acceptance.late': '补正后受理超期',
      'intake.limits.overridden': '擅自延长时限', 'intake.item.unknown': '事项未登记',
      'procedure.no_acceptance': '未受理即办结', 'procedure.after_conclusion': '办结后操作',
      'suspension.overlong': '暂停超期',
      'supervision.unacknowledged': '未及时签收', 'supervision.correction.overdue': '督办逾期未回告',
      'supervision.escalated': '督办升级', 'supervision.notify.failed': '推送失败',
      'rating.unverified': '差评未及时核实', 'rating.rectification.overdue': '差评整改逾期',
      'rating.duplicate': '重复评价', 'rating.defaulted': '默认评价', 'complaint.acceptance.late': '投诉受理超时',
      'complaint.reply.late': '投诉答复超时',
      'proc.window.short': '等标期不足', 'proc.sale.short': '文件发售期不足', 'proc.clarification.late': '澄清修改过晚', 'proc.objection.late': '异议答复超期', 'proc.opening.mismatch': '开标时间不符', 'proc.bidders.few': '投标人不足三家', 'proc.experts.designated': '评标专家违规', 'proc.confirmation.late': '结果确认超期', 'proc.publicity.short': '候选人公示不足', 'proc.result.late': '结果公告超期', 'proc.award.not_first': '未确定排名第一', 'proc.contract.late': '合同签订超期', 'proc.contract.unpublished': '合同未按时公告', 'proc.contract.unfiled': '合同未按时备案', 'proc.contract.deviation': '合同背离中标结果', 'proc.bond.excessive': '保证金超标', 'proc.split': '化整为零规避招标', 'proc.enquiry.late': '质疑答复超期', 'proc.complaint.late': '投诉处理超期',
    },
    orders: '督办看板', orders_empty: '暂无督办事项', overdue: '逾期', escalated: '已升级',
    escalated_to: '升级至', due_on: '回告期限', round: '第{n}轮', notice: '监察建议书',
    order_states: { ordered: '待回告', reported: '待核查', closed: '已办结' },
    states: {
      submitted: '已申请', running: '办理中', suspended: '暂停', concluded: '已办结',
      withdrawn: '已撤回', rejected: '不予受理',
    },

    insight: '辅助决策', insight_period: '期间', download_insight_xlsx: '下载辅助决策 (Excel)',
    bottlenecks: '用时瓶颈（工作日）', by_item: '事项', by_org: '单位', by_step: '环节',
    median: '中位数 P50', p90: 'P90', max: '最长', promised_limit: '承诺时限', to_conclusion: '（至办结）',
    forecast: '业务量预测（受理件数）', actual: '实际受理', backtest: '回测预测', forecasted: '预测',
    forecast_all: '全部受理',
    backtest_error: '回测误差率 {rate}（近 {k} 个已知月：误差合计 {abs} 件 / 实际 {actual} 件）',
    backtest_none: '回测期内无受理，无法计算误差率',
    recommendations: '承诺时限建议（近 12 个月，至少 30 件办结）', recommendations_none: '没有办结件数足够的事项',
    col_n: '件数', col_p50: '中位数 P50', col_p90: 'P90', col_limit: '现承诺时限', col_suggested: '建议时限',
    col_flag: '提示', col_months: '月份', col_cards_accepted: '红黄牌/受理', col_per_100: '每百件红黄牌',
    col_submitted: '申请', col_repeated: '二次补正', col_repeated_rate: '二次补正率',
    hot_orgs: '热点：每百件红黄牌连续三个月上升的单位', hot_orgs_none: '没有连续三个月上升的单位',
    hot_items: '热点：二次补正率最高的事项', hot_items_none: '没有二次补正',
    days: '{n} 个工作日', as_of: '评估时点',
    flags: { unrealistic_or_short_of_capacity: '承诺不实或人手不足' },
  },
  en: {
    overview: 'Overview', filter_org: 'Org', filter_rule: 'Rule', filter_severity: 'Severity', all: 'All',
    col_org: 'Department / town', col_red: 'Red', col_yellow: 'Yellow', col_warnings: 'Prompts',
    col_overdue: 'Overdue', col_due_week: 'Due this week', col_on_time: 'On time (n)', col_proc_red: 'Procurement red', col_proc_yellow: 'Procurement yellow', col_rank: 'Rank',
    col_accepted: 'Accepted', col_satisfaction: 'Satisfied (n)', col_score: 'Score', col_grade: 'Grade',
    cards: 'Cards', cards_empty: 'Click a row of the overview to list its cards', prev: 'Previous',
    kind_approval: 'Approval', kind_procurement: 'Procurement', project: 'Project', method: 'Method',
    budget: 'Budget (yuan)', deadlines: 'Deadlines', natural_days: 'natural days', working_days: 'working days',
    next: 'Next', page: 'page {n}', targets: 'Dashed: the 95% and 100% targets', ranking: 'Ranking',
    download_csv: 'Download report (CSV)', download_xlsx: 'Download report (Excel)', evidence: 'Evidence pack', case_state: 'State',
    case_alerts: 'Alerts and cards', case_ledger: 'Ledger entries', timeline: 'Timeline', no_entries: 'None',
    clock_simulated: 'Simulated clock', clock_server: 'Server time', open_case: 'Open case',
    department: 'Department', town: 'Town',
    roles: { supervisor: 'supervisor', center: 'center', unit: 'unit', evaluator: 'evaluator', local: 'local' },
    severities: { red: 'Red', yellow: 'Yellow', warning: 'Prompt' },
    events: {
      ItemDefined: 'Item defined', OrgDefined: 'Org defined', CalendarAmended: 'Calendar amended',
      Submitted: 'Submitted', CorrectionRequested: 'Correction requested',
      MaterialsSupplemented: 'Materials supplemented', Accepted: 'Accepted',
      RejectedAtIntake: 'Rejected at intake', Transferred: 'Transferred', StepCompleted: 'Step completed',
      Suspended: 'Suspended', Resumed: 'Resumed', Extended: 'Extended', FeeCharged: 'Fee charged',
      Decided: 'Decided', Concluded: 'Concluded', Withdrawn: 'Withdrawn', Rated: 'Rated',
      Complained: 'Complained', CardIssued: 'Card issued', AlertAcknowledged: 'Acknowledged',
      CorrectionOrdered: 'Correction ordered', CorrectionCompleted: 'Reported back', Exempted: 'Exempted',
      AppealUpheld: 'Appeal upheld', HistoryImported: 'History imported', PeriodClosed: 'Period closed',
      CardWithdrawn: 'Card withdrawn', CorrectionVerified: 'Verified', RatingVerified: 'Rating verified',
      RatingRectified: 'Rating rectified', RatingCallback: 'Call-back', ComplaintAccepted: 'Complaint accepted',
      ComplaintRejected: 'Complaint rejected', ComplaintAnswered: 'Complaint answered',
      NotificationSent: 'Notified', NotificationFailed: 'Notification failed',
      ThresholdDefined: 'Threshold defined', WorkflowLimitsDefined: 'Workflow limits defined', ProcurementRegistered: 'Project registered', DocumentsIssued: 'Documents issued', Clarified: 'Clarified', BidDeadlineSet: 'Bid deadline set', ObjectionFiled: 'Objection filed', ObjectionAnswered: 'Objection answered', BidsOpened: 'Bids opened', ExpertsDrawn: 'Experts drawn', EvaluationReported: 'Evaluation reported', ResultConfirmed: 'Result confirmed', CandidatesPublicized: 'Candidates publicized', ResultPublished: 'Result published', AwardNoticeIssued: 'Award notice', ContractSigned: 'Contract signed', ContractPublished: 'Contract published', ContractFiled: 'Contract filed', AwardReported: 'Award reported', SupplementalContract: 'Supplemental contract', BondTaken: 'Bond taken', EnquiryFiled: 'Enquiry filed', EnquiryAnswered: 'Enquiry answered', ComplaintFiled: 'Complaint filed', ComplaintDecided: 'Complaint decided', Retendered: 'Retendered', ProcurementClosed: 'Project closed',
    },
    title: 'Approval supervision', connect: 'Connect', token_placeholder: 'Access token',
    live: 'Live alerts', live_empty: 'No new alerts yet', board: 'Card board',
    departments: 'Center departments', towns: 'Towns', other: 'Other',
    charts: 'On-time, satisfaction and correction rates, last 12 months', depth: 'Org depth',
    on_time_rate: 'On-time rate', satisfaction_rate: 'Satisfaction rate',
    correction_rate: 'Orders corrected on time', rectification_rate: 'Bad ratings rectified', lookup: 'Case lookup',
    search: 'Search', raised: 'raised', closed: 'closed', withdrawn: 'withdrawn', yellow: 'yellow', red: 'red',
    acknowledge: 'Acknowledge', acknowledged: 'acknowledged', status_live: 'live',
    status_connecting: 'connecting', status_idle: 'not connected', status_error: 'failed',
    status_offline: 'offline', status_polling: 'polling',
    stream_refused: 'Live alerts unavailable, refreshing every 30 s: {detail}',
    grades: { '优秀': 'Excellent', '良好': 'Good', '合格': 'Pass', '不合格': 'Fail' },
    need_token: 'Enter an access token', no_data: 'No data', not_found: 'No such case',
    chain_broken: 'Warning: the log\'s hash chain is broken at position {p}; the figures shown may rest on altered events.',
    forbidden: 'Not allowed', failed: 'Request failed', unreachable: 'Cannot reach the server', open_cards: 'open', item: 'Item',
    kinds: {
      invalid: 'Invalid request', unauthorized: 'Token not accepted', forbidden: 'Not allowed', not_found: 'Not found',
      act_conflict: 'Not possible in the current state', id_reused: 'Id already taken',
      version_conflict: 'Version conflict: reload and try again', period_conflict: 'The period cannot be closed or reviewed',
      too_many_requests: 'Too many requests: try again later', request_timeout: 'Request timed out',
      unavailable: 'Service unavailable', internal: 'Internal server error',
    },
    org: 'Org', state: 'Status', promised_due_on: 'Promised due', statutory_due_on: 'Statutory due',
    used_days: 'Working days used', remaining_days: 'Working days left', on_time: 'On time', yes: 'yes', no: 'no',
    lang: '中文', warning: 'prompt', prompts: 'Prompts', prompts_empty: 'No prompts',
    month: 'Month', period_closed: 'closed', period_open: 'open',
    due_cases: 'Cases falling due', due_today: 'Due today', due_week: 'Due this week',
    due_empty: 'Click to list the cases due today or this week', due_none: 'No case falls due',
    rules: {
      'deadline.promised.warning': 'Promised limit near', 'deadline.promised.overdue': 'Past promised limit',
      'deadline.statutory.overdue': 'Past statutory limit', 'intake.correction.repeated': 'Repeated correction',
      'intake.correction.late': 'Late intake answer', 'intake.materials.incomplete': 'Accepted incomplete',
      'procedure.step.skipped': 'Step skipped', 'procedure.no_decision': 'No decision',
      'suspension.unlawful': 'Unlawful suspension', 'fee.mismatch': 'Fee mismatch',
      'extension.excessive': 'Excessive extension', 'case.stalled': 'Stalled', 'rating.bad': 'Bad rating',
      'data.backdated': 'Back-dated entry', 'intake.acceptance.late': 'Late acceptance after supplements',
      'intake.limits.overridden': 'Limits lengthened at acceptance', 'intake.item.unknown': 'Item not in the catalog',
      'procedure.no_acceptance': 'Concluded without acceptance', 'procedure.after_conclusion': 'Action after the end',
      'suspension.overlong': 'Suspension overran its notice',
      'supervision.unacknowledged': 'Not acknowledged in time', 'supervision.correction.overdue': 'Correction not reported back',
      'supervision.escalated': 'Escalated', 'supervision.notify.failed': 'Notification failed',
      'rating.unverified': 'Bad rating not verified', 'rating.rectification.overdue': 'Rectification overdue',
      'rating.duplicate': 'Repeated rating', 'rating.defaulted': 'Default rating', 'complaint.acceptance.late': 'Complaint not accepted in time',
      'complaint.reply.late': 'Complaint not answered in time',
      'proc.window.short': 'Bid window too short', 'proc.sale.short': 'Documents on sale too briefly', 'proc.clarification.late': 'Clarification too late', 'proc.objection.late': 'Objection answered late', 'proc.opening.mismatch': 'Opening off the deadline', 'proc.bidders.few': 'Fewer than 3 bidders', 'proc.experts.designated': 'Experts not drawn lawfully', 'proc.confirmation.late': 'Result confirmed late', 'proc.publicity.short': 'Publicity too short', 'proc.result.late': 'Result announced late', 'proc.award.not_first': 'Award not to the first-ranked', 'proc.contract.late': 'Contract late', 'proc.contract.unpublished': 'Contract not announced', 'proc.contract.unfiled': 'Contract not filed', 'proc.contract.deviation': 'Contract deviates from award', 'proc.bond.excessive': 'Bond too high', 'proc.split': 'Split to avoid open tender', 'proc.enquiry.late': 'Enquiry answered late', 'proc.complaint.late': 'Complaint decided late',
    },
    orders: 'Correction orders', orders_empty: 'No correction orders', overdue: 'overdue', escalated: 'escalated',
    escalated_to: 'escalated to', due_on: 'report back by', round: 'round {n}', notice: 'Supervision notice',
    order_states: { ordered: 'awaiting report-back', reported: 'awaiting verification', closed: 'closed' },
    states: {
      submitted: 'submitted', running: 'running', suspended: 'suspended', concluded: 'concluded',
      withdrawn: 'withdrawn', rejected: 'rejected',
    },

    insight: 'Insight', insight_period: 'Period', download_insight_xlsx: 'Download insight (Excel)',
    bottlenecks: 'Bottlenecks (working days)', by_item: 'Items', by_org: 'Orgs', by_step: 'Steps',
    median: 'median P50', p90: 'P90', max: 'longest', promised_limit: 'promised limit', to_conclusion: '(to the conclusion)',
    forecast: 'Workload forecast (accepted cases)', actual: 'accepted', backtest: 'backtest forecast', forecasted: 'forecast',
    forecast_all: 'All accepted',
    backtest_error: 'Backtest error {rate} (last {k} known months: {abs} cases off out of {actual})',
    backtest_none: 'Nothing accepted in the backtest months: no error rate',
    recommendations: 'Promised limits (last 12 months, at least 30 conclusions)', recommendations_none: 'No item with enough conclusions',
    col_n: 'n', col_p50: 'Median P50', col_p90: 'P90', col_limit: 'Promised limit', col_suggested: 'Suggested',
    col_flag: 'Flag', col_months: 'Months', col_cards_accepted: 'Cards / accepted', col_per_100: 'Cards per 100',
    col_submitted: 'Submitted', col_repeated: 'Repeated', col_repeated_rate: 'Repeated rate',
    hot_orgs: 'Hot spots: orgs whose cards per 100 accepted rose three months in a row', hot_orgs_none: 'No org rose three months in a row',
    hot_items: 'Hot spots: items by repeated correction requests', hot_items_none: 'No repeated correction request',
    days: '{n} working days', as_of: 'as of',
    flags: { unrealistic_or_short_of_capacity: 'unrealistic or short of capacity' },
  },
};

const LIVE_ITEMS_MAX = 100;
const MONTHS = 12;
const CHART_ORGS_MAX = 6;
const CARDS_PAGE = 12;
const COLORS = ['#1565c0', '#2e7d32', '#c62828', '#6a1b9a', '#ef6c00', '#00838f'];
const RECONNECT_MS = 2000;
// Refetches after live alerts are spaced at least this far apart.
const REFRESH_MS = 2000;
const CHARTS_REFRESH_MS = 15000;
// A role without the live stream (an evaluator) refetches its figures on this timer.
const POLL_MS = 30000;
// How often the header reads a simulated clock again.
const CLOCK_POLL_MS = 5000;
const SEVERITIES = ['red', 'yellow', 'warning'];
// The bottleneck chart's bars, the forecast chart's known months, the hot items listed.
const BOTTLENECK_BARS_MAX = 10;
const FORECAST_KNOWN_MONTHS = 12;
const HOT_ITEMS_MAX = 10;
// Each rate of the report and the count it is a share of (its n).
const RATES = {
  on_time: ['on_time_rate', 'concluded'],
  satisfaction: ['satisfaction_rate', 'rated'],
  correction: ['correction_rate', 'ordered'],
  rectification: ['rectification_rate', 'bad_valid'],
};

function noCards(kind = 'approval') {
  return { org: null, kind, cursors: [null], page: 0, next: null, list: [], total: 0 };
}

const state = {
  lang: localStorage.getItem('jiancha.lang') || 'zh',
  token: sessionStorage.getItem('jiancha.token') || '',
  auth: true,
  me: null,
  open: new Map(),
  // The live changes shown, newest first.
  live: [],
  lastId: null,
  loading: false,
  buffered: [],
  now: null,
  stream: null,
  poll: null,
  clockPoll: null,
  closes: new Map(),
  names: new Map(),
  overview: null,
  sort: { key: 'red', desc: true },
  filters: { org: '', rule: '', severity: '' },
  cards: noCards(),
  cardsSeq: 0,
  report: null,
  orders: null,
  refreshAt: new Map(),
  refreshTimers: new Map(),
  chartsSeries: null,
  // How many times the charts were fetched and drawn (they follow the live alerts).
  chartsDrawn: 0,
  caseDoc: null,
  insight: null,
  // Only the answer to the latest insight request is drawn; how many were drawn.
  insightSeq: 0,
  // Bumped by every full read of the figures: only the latest sets the status.
  loadSeq: 0,
  insightDrawn: 0,
  bottleneckBy: 'items',
  // Bumped by every connect: an answer to a request of an earlier token is dropped.
  epoch: 0,
  // The message shown (a function, so a language switch words it again), whether it is a
  // transient failure (cleared by the next read that succeeds), and the live stream's refusal
  // (shown while the stream is refused and the figures are polled instead).
  message: null,
  transient: false,
  // How many transient failures were shown: a read clears only one shown before it began.
  transientSeq: 0,
  messageSource: null,
  streamNote: null,
  // Whether the live stream is open now, and the chain break the last answer named.
  streamLive: false,
  broken: null,
  // Whether the prompts have been read at all (an unread list claims nothing).
  promptsLoaded: false,
};

function learnNames(view) {
  if (view.org && view.org_name) state.names.set(view.org, view.org_name);
  if (view.org && view.name) state.names.set(view.org, view.name);
  if (view.item && view.item_name) state.names.set(view.item, view.item_name);
}

// An org or item code shown by its name (the one given, else the one the page knows), with the
// code in the tooltip.
function named(code, name = null) {
  return el('span', { class: 'named', title: code, 'data-code': code }, name ?? state.names.get(code) ?? code);
}

const isCard = (a) => a.severity !== 'warning';
const $ = (id) => document.getElementById(id);
const t = (key) => TEXT[state.lang][key] ?? key;
const ruleName = (code) => TEXT[state.lang].rules[code] ?? code;
const eventName = (type) => TEXT[state.lang].events[type] ?? type;
const may = (act) => !!state.me && state.me.acts.includes(act);
const reads = (what) => !!state.me && (what === 'figures' || !!state.me[what]);
// An instant as the district reads it: the date and minutes of its +08:00 text.
// An instant in Beijing time (+08:00), whatever offset it was written with: `YYYY-MM-DD HH:MM`.
const local = (at) => {
  if (!at) return '—';
  const ms = Date.parse(at);
  if (Number.isNaN(ms)) return at.slice(0, 16).replace('T', ' ');
  return new Date(ms + 8 * 3600 * 1000).toISOString().slice(0, 16).replace('T', ' ');
};
const pct = (rate) => (rate === null || rate === undefined ? '—' : `${(Number(rate) * 100).toFixed(1)}%`);
const rateN = (rate, n) => `${pct(rate)} (${n})`;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('data-')) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function applyLanguage() {
  document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
  document.title = t('title');
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll('[data-i18n-placeholder]')) {
    node.placeholder = t(node.dataset.i18nPlaceholder);
  }
  $('lang').textContent = t('lang');
  setStatus($('status').dataset.state);
  renderMessage();
  renderBroken();
  fillFilters();
  if (reads('insight')) fillInsightControls();
  renderWho();
  renderOverview();
  renderCards();
  renderPrompts();
  renderLive();
  renderOrders();
  renderMonth();
  renderReport();
  if (state.chartsSeries) drawCharts();
  renderInsight();
  if (state.caseDoc) renderCase();
  renderDue();
}

function setStatus(s) {
  const node = $('status');
  node.dataset.state = s;
  node.textContent = t('status_' + s);
}

// Shows a message (text, or a function wording it in the page's language); `transient`: a
// failure that the next successful read clears (the server was away, busy or failing);
// `source`: what said it ('case': a case that could not be read, cleared by the next case read).
function showMessage(text, transient = false, source = null) {
  state.message = typeof text === 'function' ? text : text ? () => text : null;
  state.transient = !!state.message && transient;
  if (state.transient) state.transientSeq += 1;
  state.messageSource = state.message ? source : null;
  renderMessage();
}

function renderMessage() {
  const node = $('message');
  const shown = state.message ?? state.streamNote;
  const text = shown ? shown() : '';
  node.hidden = !text;
  node.textContent = text;
}

// A read answered: a transient failure shown before it began is over. One shown while it was
// under way (a read begun before the server went away, answered after a later read failed)
// says nothing of it, and stays.
function clearTransient(since) {
  if (!state.transient || state.transientSeq !== since) return;
  state.message = null;
  state.transient = false;
  state.messageSource = null;
  renderMessage();
}

function renderBroken() {
  const node = $('chain-broken');
  node.hidden = !state.broken;
  node.textContent = state.broken ? t('chain_broken').replace('{p}', state.broken) : '';
}

function headers() {
  return state.token ? { Authorization: 'Bearer ' + state.token } : {};
}

// A read the server asks to retry (429: a replay of the log is running, a limit is reached)
// is sent again after the wait it names, a few times, instead of failing the page.
const RETRIES_MAX = 5;

async function api(path, options) {
  const since = state.transientSeq;
  let res;
  for (let tries = 0; ; tries += 1) {
    res = await fetch(path, { ...(options || {}), headers: { ...headers(), ...((options || {}).headers || {}) } });
    const read = !options || !options.method || options.method === 'GET';
    if (res.status !== 429 || !read || tries >= RETRIES_MAX) break;
    const wait = Math.min(Number(res.headers.get('retry-after')) || 1, 5);
    await new Promise((resolve) => setTimeout(resolve, wait * 1000));
  }
  state.broken = res.headers.get('x-jiancha-chain-broken') || null;
  renderBroken();
  const body = res.headers.get('content-type')?.includes('json') ? await res.json() : null;
  if (!res.ok) throw refusal(res, body);
  if (!options || !options.method || options.method === 'GET') clearTransient(since);
  return body;
}

// The error of a refused request: its status, the server's kind and its own words.
function refusal(res, body) {
  const error = new Error(body?.message || res.statusText);
  error.status = res.status;
  error.kind = body?.error;
  return error;
}

// Whether a failure may pass by itself: no answer at all (the server away), or the server busy
// or failing.
const isTransient = (e) => !e.status || e.status === 408 || e.status === 429 || e.status >= 500;

// A refusal in the page's language: the kind of error named in it, the server's own words
// (English, naming the field) beside. A token the server does not know is told so in its
// words; a page without a token is asked for one.
function describe(e) {
  // No answer at all (the browser's own English, "Failed to fetch"): the server is away.
  if (e instanceof TypeError && !e.status) return t('unreachable');
  if (e.status === 403) return t('forbidden');
  if (e.status === 401 && !state.token) return t('need_token');
  return `${t('failed')}: ${detail(e)}`;
}

// The kind of a refusal in the page's language, the server's words beside.
function detail(e) {
  const kind = TEXT[state.lang].kinds[e.kind ?? (e.status === 401 ? 'unauthorized' : '')];
  return kind ? (state.lang === 'zh' ? `${kind}（${e.message}）` : `${kind} (${e.message})`) : e.message;
}

function failed(e) {
  showMessage(() => describe(e), isTransient(e));
}

// Runs `fn` at most once per `ms`: a call within the interval schedules one run at its end.
function throttled(key, ms, fn) {
  const last = state.refreshAt.get(key) ?? 0;
  const wait = last + ms - Date.now();
  if (wait <= 0) {
    state.refreshAt.set(key, Date.now());
    fn();
  } else if (!state.refreshTimers.has(key)) {
    state.refreshTimers.set(key, setTimeout(() => {
      state.refreshTimers.delete(key);
      state.refreshAt.set(key, Date.now());
      fn();
    }, wait));
  }
}

// ---- who am I -------------------------------------------------------------------------------

// The sections the role reads are shown, the others hidden (never fetched). The insight starts
// hidden (the leadership's only): a page without a token never shows it.
function applyRole() {
  for (const node of document.querySelectorAll('[data-needs]')) node.hidden = !reads(node.dataset.needs);
  document.body.dataset.role = state.me ? state.me.role : '';
  renderWho();
}

function renderWho() {
  const me = state.me;
  $('whoami').replaceChildren(...(me ? [TEXT[state.lang].roles[me.role] ?? me.role, ...(me.org ? [' · ', named(me.org)] : [])] : []));
  const clock = $('clock');
  const now = state.now ?? me?.clock.now;
  clock.hidden = !now;
  clock.dataset.simulated = String(!!me?.clock.simulated);
  clock.textContent = now ? `${t(me?.clock.simulated ? 'clock_simulated' : 'clock_server')} ${local(now)}` : '';
}

// ---- live stream ----------------------------------------------------------------------------

function parseBlock(block) {
  const event = { type: 'message', id: null, data: [] };
  for (const line of block.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? '' : line.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event.type = value;
    else if (field === 'id') event.id = value;
    else if (field === 'data') event.data.push(value);
  }
  return event.data.length || event.id !== null ? event : null;
}

async function follow(signal) {
  // Whether the stream failed or closed since it was last open (the figures were read then).
  let dropped = false;
  while (!signal.aborted) {
    if (!state.streamNote && !dropped) setStatus('connecting');
    let wait = RECONNECT_MS;
    try {
      const h = headers();
      if (state.lastId !== null) h['Last-Event-ID'] = state.lastId;
      const res = await fetch('/api/v1/alerts/stream', { headers: h, signal });
      if (!res.ok || !res.body) {
        const body = res.headers.get('content-type')?.includes('json') ? await res.json().catch(() => null) : null;
        throw refusal(res, body);
      }
      // Live: the figures come with the stream's `ready`, no longer by polling.
      state.streamLive = true;
      stopPolling();
      // Back after a drop: resumed (no `ready`), the figures are read again, which clears the
      // failure the reads during the outage showed.
      if (dropped) loadAll();
      dropped = false;
      if (state.streamNote) {
        state.streamNote = null;
        renderMessage();
      }
      setStatus('live');
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const event = parseBlock(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (event) dispatch(event);
        }
      }
    } catch (e) {
      if (signal.aborted) return;
      state.streamLive = false;
      if (e.status === 401 || e.status === 403) {
        setStatus('error');
        failed(e);
        return;
      }
      if (e.status) {
        // Refused (429: the token holds too many streams; 503: the server does): the refusal is
        // shown in the server's words and the figures are read on a timer until a later try
        // gets the stream.
        state.streamNote = () => t('stream_refused').replace('{detail}', detail(e));
        renderMessage();
        wait = POLL_MS;
        startPolling();
      }
    }
    if (signal.aborted) return;
    state.streamLive = false;
    if (!state.streamNote && !dropped) {
      // The stream failed or closed (the server away or restarting): the figures are read once
      // and the status follows that read (offline, and why, after a failed one) until the
      // stream is open again.
      dropped = true;
      setStatus('connecting');
      loadAll();
    }
    await new Promise((r) => setTimeout(r, wait));
  }
}

function startPolling() {
  if (state.poll) return;
  loadAll();
  state.poll = setInterval(loadAll, POLL_MS);
}

function stopPolling() {
  if (state.poll) clearInterval(state.poll);
  state.poll = null;
}

function dispatch(event) {
  if (event.id !== null) state.lastId = event.id;
  if (event.type === 'ready' || event.type === 'reload') {
    loadAll();
    return;
  }
  if (event.type !== 'alerts') return;
  const message = JSON.parse(event.data.join('\n'));
  if (state.loading) state.buffered.push(message);
  else applyMessage(message, true);
}

function applyMessage(message, show) {
  for (const change of message.changes) {
    const a = change.alert;
    learnNames(a);
    // The open warnings are kept here; the cards are counted by the overview and listed a
    // page at a time.
    if (change.kind === 'raised' && !a.closed_at && !isCard(a)) state.open.set(a.id, a);
    else state.open.delete(a.id);
    if (show) showChange(change);
  }
  renderPrompts();
  // The figures the alerts change, fetched again (throttled).
  throttled('overview', REFRESH_MS, loadOverview);
  if (state.cards.org !== null) throttled('cards', REFRESH_MS, () => loadCards(state.cards.page));
  throttled('orders', REFRESH_MS, loadOrders);
  throttled('charts', CHARTS_REFRESH_MS, loadCharts);
}

// A live change, newest first: kept (so a language switch words the list again) and shown
// highlighted.
function showChange(change) {
  state.live.unshift(change);
  state.live.length = Math.min(state.live.length, LIVE_ITEMS_MAX);
  $('live').prepend(liveItem(change, true));
  while ($('live').children.length > LIVE_ITEMS_MAX) $('live').lastChild.remove();
  $('live-empty').hidden = true;
}

function liveItem(change, flash) {
  const a = change.alert;
  return el('li', { class: `${a.severity} ${change.kind}${flash ? ' flash' : ''}`, 'data-alert-id': a.id },
    el('span', { class: `badge ${a.severity}` }, t(a.severity)), ' ',
    el('strong', {}, ruleName(a.rule)), ' · ', caseLink(a.case), ' ',
    el('span', { class: 'muted' }, `${t(change.kind)} ${local(a.raised_at)} · `, named(a.org)));
}

// The live changes kept, again (in the page's language), without the highlight.
function renderLive() {
  $('live').replaceChildren(...state.live.map((change) => liveItem(change, false)));
  $('live-empty').hidden = state.live.length > 0;
}

// Everything the page shows, fetched afresh.
// Without the live stream (an evaluator, a stream refused or dropped) the status follows these
// reads: offline after one failed; after all succeeded, polling (read on a timer) or, for a
// role whose stream is being tried again, connecting.
async function loadAll() {
  const epoch = state.epoch;
  // Only the latest read sets the status: one begun while the stream was live may end after
  // the failed read of a drop, and must not cover its "offline".
  const seq = ++state.loadSeq;
  const jobs = [loadOverview(), loadCharts(), loadInsight()];
  if (reads('cases')) {
    state.loading = true;
    jobs.push(loadPrompts(), loadOrders());
    if (state.cards.org !== null) jobs.push(loadCards(state.cards.page));
  }
  const ok = (await Promise.all(jobs)).every((done) => done !== false);
  if (epoch === state.epoch && seq === state.loadSeq && state.me && !state.streamLive) {
    setStatus(ok ? (state.streamNote || !reads('cases') ? 'polling' : 'connecting') : 'offline');
  }
  return ok;
}

// The open warnings (prompts before a deadline), listed apart from the cards.
async function loadPrompts() {
  const epoch = state.epoch;
  try {
    const list = await api('/api/v1/alerts?open=true&severity=warning');
    if (epoch !== state.epoch) return true;
    state.open = new Map(list.alerts.map((a) => [a.id, a]));
    state.promptsLoaded = true;
    list.alerts.forEach(learnNames);
    return true;
  } catch (e) {
    if (epoch !== state.epoch) return true;
    failed(e);
    return false;
  } finally {
    state.loading = false;
    const buffered = state.buffered.splice(0);
    for (const m of buffered) applyMessage(m, true);
    renderPrompts();
  }
}

function renderPrompts() {
  const prompts = [...state.open.values()].filter((a) => !isCard(a))
    .sort((x, y) => x.raised_at.localeCompare(y.raised_at) || x.id.localeCompare(y.id));
  $('prompts').replaceChildren(...prompts.map((a) => el('li', { class: 'warning', 'data-alert-id': a.id, title: a.id },
    el('span', { class: 'badge warning' }, t('warning')), ' ', el('strong', {}, ruleName(a.rule)), ' · ', caseLink(a.case), ' ',
    el('span', { class: 'muted' }, `${local(a.raised_at)} · `, named(a.org)))));
  $('prompts-count').textContent = String(prompts.length);
  // Nothing read yet claims nothing.
  $('prompts-empty').hidden = !state.promptsLoaded || prompts.length > 0;
}

// ---- the overview ---------------------------------------------------------------------------

function filterQuery() {
  const q = new URLSearchParams();
  if (state.filters.rule) q.set('rule', state.filters.rule);
  if (state.filters.severity) q.set('severity', state.filters.severity);
  return q;
}

async function loadOverview() {
  const epoch = state.epoch;
  try {
    const overview = await api(`/api/v1/overview?${filterQuery()}`);
    if (epoch !== state.epoch) return true;
    state.overview = overview;
    state.now = overview.now;
    overview.rows.forEach(learnNames);
    fillFilters();
    if (reads('insight')) fillInsightControls();
    renderOverview();
    renderWho();
    // When the board was first filled, for the browser test's measure of the first paint.
    if (!performance.getEntriesByName('jiancha:overview').length) performance.mark('jiancha:overview');
    return true;
  } catch (e) {
    if (epoch !== state.epoch) return true;
    failed(e);
    return false;
  }
}

function fillSelect(select, options) {
  const chosen = select.value;
  select.replaceChildren(el('option', { value: '' }, t('all')), ...options.map(([v, label]) => el('option', { value: v }, label)));
  select.value = options.some(([v]) => v === chosen) ? chosen : '';
}

function fillFilters() {
  const rows = state.overview?.rows ?? [];
  fillSelect($('filter-org'), rows.map((r) => [r.org, state.names.get(r.org) ?? r.org]));
  fillSelect($('filter-rule'), Object.keys(TEXT[state.lang].rules).map((code) => [code, ruleName(code)]));
  fillSelect($('filter-severity'), SEVERITIES.map((s) => [s, TEXT[state.lang].severities[s]]));
}

function sortValue(row, key) {
  if (key === 'org') return state.names.get(row.org) ?? row.org;
  if (key === 'on_time_rate') return row.on_time_rate === null ? -1 : Number(row.on_time_rate);
  return row[key];
}

function renderOverview() {
  const body = $('overview').tBodies[0];
  const rows = (state.overview?.rows ?? []).filter((r) => !state.filters.org || r.org === state.filters.org);
  const { key, desc } = state.sort;
  rows.sort((a, b) => {
    const x = sortValue(a, key);
    const y = sortValue(b, key);
    const c = typeof x === 'string' ? x.localeCompare(y) : x - y;
    return (desc ? -c : c) || a.org.localeCompare(b.org);
  });
  for (const th of $('overview').tHead.rows[0].cells) {
    th.dataset.sorted = th.dataset.sort === key ? (desc ? 'desc' : 'asc') : '';
  }
  body.replaceChildren(...rows.map((r) => {
    const org = ownOrg(r.org);
    const tr = el('tr', { 'data-org': org, 'data-kind': r.kind, class: org === state.cards.org ? 'selected' : '' },
      el('td', {}, named(org)),
      el('td', { class: r.red ? 'num red' : 'num' }, r.red),
      el('td', { class: r.yellow ? 'num yellow' : 'num' }, r.yellow),
      el('td', { class: 'num' }, r.warnings),
      el('td', { class: 'num' }, r.overdue),
      el('td', { class: 'num' }, r.due_this_week),
      el('td', { class: 'num' }, rateN(r.on_time_rate, r.concluded)),
      el('td', { class: r.proc_red ? 'num red' : 'num', 'data-kind': 'procurement' }, r.proc_red),
      el('td', { class: r.proc_yellow ? 'num yellow' : 'num', 'data-kind': 'procurement' }, r.proc_yellow));
    if (reads('cases')) {
      tr.classList.add('clickable');
      // A click on a procurement column lists the org's procurement cards.
      tr.addEventListener('click', (e) => {
        const kind = e.target.closest('td')?.dataset.kind === 'procurement' ? 'procurement' : 'approval';
        selectKind(kind);
        selectOrg(org, kind);
      });
    }
    return tr;
  }));
  const total = (k) => rows.reduce((n, r) => n + r[k], 0);
  $('overview-month').textContent = state.overview ? state.overview.month : '';
  $('board-counts').textContent = rows.length ? `${t('red')} ${total('red')} · ${t('yellow')} ${total('yellow')}` : '';
}

// The org a row stands for to this token: a unit below a group (a window, a village point),
// whose own org has no row of its own, sees its group's row with its own figures, and acts on
// its own org, never on the group's (which its token may not read). Every other row is its
// own org's (the district's own row for the bureau or the center too).
function ownOrg(org) {
  const me = state.me;
  const mine = me?.org;
  if (!mine || me.role !== 'unit' || !mine.startsWith(org + '/')) return org;
  return (state.overview?.rows ?? []).some((r) => r.org === mine) ? org : mine;
}

// ---- the cards of an org, a page at a time ----------------------------------------------------

// The board lists an org's cards of one kind at a time: the approval cases' or the
// procurement projects' (GET /api/v1/alerts?kind=).
function selectOrg(org, kind = state.cards.kind ?? 'approval') {
  state.cards = { ...noCards(kind), org };
  renderOverview();
  loadCards(0);
}

function selectKind(kind) {
  for (const b of document.querySelectorAll('#cards-kind button')) b.classList.toggle('selected', b.dataset.kind === kind);
  if (state.cards.org === null) {
    state.cards.kind = kind;
    return;
  }
  selectOrg(state.cards.org, kind);
}

// The overview row an org's alerts are counted in, as the server groups them (`group_of`): a
// department of the district center, the center itself (its own alerts only: each department
// has its row), a town, else the org's first two segments.
function groupOf(org) {
  const p = org.split('/');
  return p.slice(0, p[1] === 'center' && p.length >= 3 ? 3 : 2).join('/');
}

// Whether a row counts every alert under its org: all but the center's and a district's, whose
// departments (towns) have rows of their own.
function rowHoldsAll(org) {
  const p = org.split('/');
  return p.length >= 3 || (p.length === 2 && p[1] !== 'center');
}

// The most alerts read at once when a row's cards are picked out of its org's whole list.
const SCAN_PAGE = 1000;

async function loadCards(page) {
  const org = state.cards.org;
  if (org === null) return true;
  const epoch = state.epoch;
  const q = filterQuery();
  q.set('open', 'true');
  q.set('org', org);
  q.set('kind', state.cards.kind ?? 'approval');
  if (!state.filters.severity) q.set('severity', 'yellow,red');
  // Only the answer to the latest request (made after the latest act) is shown.
  const seq = ++state.cardsSeq;
  const current = () => epoch === state.epoch && state.cards.org === org && seq === state.cardsSeq;
  try {
    let alerts;
    let total;
    let next;
    if (rowHoldsAll(org)) {
      q.set('limit', String(CARDS_PAGE));
      const cursor = state.cards.cursors[page];
      if (cursor) q.set('cursor', cursor);
      const list = await api(`/api/v1/alerts?${q}`);
      if (!current()) return true;
      ({ alerts, total, next_cursor: next } = list);
    } else {
      // The list under the org holds its departments' cards too, which their own rows count:
      // it is read whole and kept to the row's own, so the list and its count match the row.
      const group = groupOf(org);
      const own = [];
      let cursor = null;
      do {
        q.set('limit', String(SCAN_PAGE));
        if (cursor) q.set('cursor', cursor);
        const list = await api(`/api/v1/alerts?${q}`);
        if (!current()) return true;
        own.push(...list.alerts.filter((a) => groupOf(a.org) === group));
        cursor = list.next_cursor;
      } while (cursor);
      alerts = own.slice(page * CARDS_PAGE, (page + 1) * CARDS_PAGE);
      total = own.length;
      next = (page + 1) * CARDS_PAGE < own.length ? `page-${page + 1}` : null;
    }
    alerts.forEach(learnNames);
    state.cards.page = page;
    state.cards.list = alerts;
    state.cards.total = total;
    state.cards.next = next;
    state.cards.cursors[page + 1] = next;
    renderCards();
    return true;
  } catch (e) {
    if (!current()) return true;
    // A cursor from before a filter changed: start again from the first page.
    if (e.status === 400 && page > 0) {
      state.cards.cursors = [null];
      return loadCards(0);
    }
    failed(e);
    return false;
  }
}

function renderCards() {
  const c = state.cards;
  $('cards-org').replaceChildren(...(c.org === null ? [] : [named(c.org), ` · ${c.total}`]));
  $('cards').replaceChildren(...c.list.map(card));
  $('cards-empty').hidden = c.list.length > 0;
  $('cards-prev').disabled = c.page === 0;
  $('cards-next').disabled = !c.next;
  $('cards-page').textContent = c.org === null ? '' : t('page').replace('{n}', c.page + 1);
}

function card(a) {
  const row = el('li', { class: `card ${a.severity}`, 'data-alert-id': a.id, title: a.id },
    el('span', { class: `badge ${a.severity}` }, t(a.severity)), ' ',
    el('span', { class: 'card-text' }, `${ruleName(a.rule)} · `, caseLink(a.case), ` · ${local(a.raised_at)}`));
  if (a.escalated_to) row.append(noticeLink(a.id));
  if (a.acknowledged) {
    row.append(el('span', { class: 'muted' }, t('acknowledged')));
  } else if (may('acknowledge')) {
    const button = el('button', { type: 'button', class: 'act', 'data-act': 'acknowledge' }, t('acknowledge'));
    button.addEventListener('click', (e) => {
      e.stopPropagation();
      acknowledge(a);
    });
    row.append(button);
  }
  return row;
}

// A case id that opens the case below.
function caseLink(id) {
  const link = el('a', { href: '#case-section', class: 'case-link', 'data-case': id, title: t('open_case') }, id);
  link.addEventListener('click', () => {
    $('case-id').value = id;
    lookup(id);
  });
  return link;
}

async function acknowledge(a) {
  try {
    await api(`/api/v1/alerts/${encodeURIComponent(a.id)}/acknowledge`, { method: 'POST' });
    // A page read before the act would show it undone.
    state.cardsSeq += 1;
    a.acknowledged = true;
    renderCards();
  } catch (e) {
    failed(e);
  }
}

// ---- the 督办 board -----------------------------------------------------------------------------

async function loadOrders() {
  if (!reads('cases')) return true;
  const epoch = state.epoch;
  try {
    const list = await api('/api/v1/orders?open=true');
    if (epoch !== state.epoch) return true;
    state.orders = list.orders;
    renderOrders();
    return true;
  } catch (e) {
    if (epoch !== state.epoch) return true;
    // The orders last read stay; none read claims nothing.
    failed(e);
    return false;
  }
}

// Overdue first, then by due date, then by card: the server's order, kept whatever it sends (an
// order whose due date the calendar cannot count yet, null, comes first among its peers, as there).
function orderSort(x, y) {
  return (y.overdue - x.overdue) || (x.due_on ?? '').localeCompare(y.due_on ?? '')
    || x.card.localeCompare(y.card);
}

function renderOrders() {
  const orders = [...(state.orders || [])].filter((o) => o.state !== 'closed').sort(orderSort);
  $('orders').replaceChildren(...orders.map((o) => {
    learnNames(o);
    if (o.escalated_to && o.escalated_to_name) state.names.set(o.escalated_to, o.escalated_to_name);
    const marks = [];
    if (o.overdue) marks.push(el('span', { class: 'badge red' }, t('overdue')), ' ');
    if (o.escalated_to) marks.push(el('span', { class: 'badge escalated' }, t('escalated')), ' ');
    const item = el('li', { class: `order${o.overdue ? ' overdue' : ''}`, 'data-card': o.card, title: o.card },
      ...marks, el('strong', {}, ruleName(o.rule)), ' · ', caseLink(o.case), ' ',
      el('span', { class: 'muted' }, `${t('due_on')} ${o.due_on ?? '—'} · ${t('round').replace('{n}', o.round)} · `
        + `${TEXT[state.lang].order_states[o.state] ?? o.state} · `, named(o.org)));
    if (o.escalated_to) item.append(' ', el('span', { class: 'muted' }, `${t('escalated_to')} `), named(o.escalated_to), ' ', noticeLink(o.card));
    return item;
  }));
  $('orders-count').textContent = state.orders ? String(orders.length) : '';
  $('orders-empty').hidden = !state.orders || orders.length > 0;
}

// The notice is read like the API, with the token: fetched, then written into a window opened
// at the click (a window opened later would be a blocked pop-up). Its style sheet is this
// origin's, which the Content Security Policy allows.
function noticeLink(id) {
  const link = el('a', { href: `/dashboard/notices/${encodeURIComponent(id)}`, class: 'notice-link' }, t('notice'));
  link.addEventListener('click', (e) => {
    e.preventDefault();
    e.stopPropagation();
    openNotice(id);
  });
  return link;
}

async function openNotice(id) {
  const w = window.open('', '_blank');
  try {
    const res = await fetch(`/dashboard/notices/${encodeURIComponent(id)}`, { headers: headers() });
    const text = await res.text();
    if (!res.ok) throw new Error(JSON.parse(text).message || res.statusText);
    if (!w) return;
    w.document.open();
    w.document.write(text);
    w.document.close();
  } catch (e) {
    if (w) w.close();
    showMessage(() => `${t('failed')}: ${e.message}`);
  }
}

// ---- charts ---------------------------------------------------------------------------------

function lastMonths(now) {
  const base = now ? new Date(now.slice(0, 10) + 'T00:00:00') : new Date();
  const months = [];
  for (let i = MONTHS - 1; i >= 0; i--) {
    const d = new Date(base.getFullYear(), base.getMonth() - i, 1);
    months.push(`${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`);
  }
  return months;
}

async function loadCharts() {
  if (!reads('reports')) return true;
  const epoch = state.epoch;
  const depth = $('depth').value;
  const months = lastMonths(state.now ?? state.me?.clock.now);
  fillMonths(months);
  let reports;
  try {
    reports = await Promise.all(months.map((m) => api(`/api/v1/reports?period=${m}&by=org&depth=${depth}`)));
  } catch (e) {
    if (epoch !== state.epoch) return true;
    failed(e);
    return false;
  }
  if (epoch !== state.epoch) return true;
  months.forEach((m, i) => state.closes.set(m, reports[i].closed || null));
  state.reports = new Map(months.map((m, i) => [m, reports[i]]));
  state.reportsDepth = Number(depth);
  for (const report of reports) report.rows.forEach(learnNames);
  // The report rows name the token's own org (a window, a village point): shown by name now.
  renderNames();
  renderMonth();
  buildCharts();
  return true;
}

// Whether an org is on the path of the org filter: the org chosen, one under it or above it.
function onPath(org) {
  const f = state.filters.org;
  return !f || org === f || org.startsWith(f + '/') || f.startsWith(org + '/');
}

// The charts of the reports read: the heaviest orgs at the depth read, on the filter's path.
function buildCharts() {
  const months = [...state.reports.keys()];
  const reports = [...state.reports.values()];
  const depth = state.reportsDepth;
  const series = new Map();
  reports.forEach((report, i) => {
    for (const row of report.rows) {
      if (row.org.split('/').length !== Number(depth) || !onPath(row.org)) continue;
      if (!series.has(row.org)) series.set(row.org, { org: row.org, weight: 0, points: {} });
      const s = series.get(row.org);
      s.weight += row.concluded + row.rated;
      for (const [key, [rate, n]] of Object.entries(RATES)) {
        (s.points[key] ??= [])[i] = { rate: row[rate], n: row[n] };
      }
    }
  });
  const top = [...series.values()].sort((a, b) => b.weight - a.weight || a.org.localeCompare(b.org)).slice(0, CHART_ORGS_MAX);
  state.chartsSeries = { months, top };
  state.chartsDrawn += 1;
  drawCharts();
  renderReport();
}

// Everything that shows org names, again, after names were learned.
function renderNames() {
  renderWho();
  renderOverview();
  renderCards();
  renderOrders();
  renderPrompts();
  renderDue();
}

function drawCharts() {
  const { months, top } = state.chartsSeries;
  drawChart($('chart-on-time'), months, top, 'on_time');
  drawChart($('chart-satisfaction'), months, top, 'satisfaction');
  drawChart($('chart-correction'), months, top, 'correction');
  drawChart($('chart-rectification'), months, top, 'rectification');
}

// ---- closed months ----------------------------------------------------------------------------

function fillMonths(months) {
  const select = $('month');
  const chosen = select.value || months[months.length - 1];
  select.replaceChildren(...months.map((m) => el('option', { value: m }, m)));
  select.value = months.includes(chosen) ? chosen : months[months.length - 1];
}

function renderMonth() {
  const node = $('month-state');
  const month = $('month').value;
  if (!month || !state.closes.has(month)) {
    node.dataset.state = 'unknown';
    node.textContent = '';
    node.title = '';
    return;
  }
  const closed = state.closes.get(month);
  node.dataset.state = closed ? 'closed' : 'open';
  node.textContent = t(closed ? 'period_closed' : 'period_open');
  node.title = closed ? `${closed.closed_at} · #${closed.position} · ${closed.digest}` : '';
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

// One rate over the months that have data (n > 0 for some org): a month without any is left
// out rather than drawn as a gap or a zero. Every point carries its n beside it; the 95% and
// 100% targets are dashed lines.
function drawChart(box, months, series, key) {
  box.replaceChildren();
  const shown = months.map((m, i) => i).filter((i) => series.some((s) => (s.points[key]?.[i]?.n ?? 0) > 0));
  if (!shown.length) {
    box.append(el('p', { class: 'empty' }, t('no_data')));
    return;
  }
  const W = 560, H = 220, L = 36, R = 24, T = 12, B = 30;
  const x = (j) => (shown.length === 1 ? (L + W - R) / 2 : L + (j * (W - L - R)) / (shown.length - 1));
  const y = (v) => T + (1 - v) * (H - T - B);
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img' });
  for (const v of [0, 0.5]) {
    chart.append(svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'axis' }));
    chart.append(svg('text', { x: 2, y: y(v) + 3 }, `${Math.round(v * 100)}%`));
  }
  for (const v of [0.95, 1]) {
    chart.append(svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'target', 'data-target': v }));
    chart.append(svg('text', { x: 2, y: y(v) + 3, class: 'target-label' }, `${Math.round(v * 100)}%`));
  }
  const every = Math.ceil(shown.length / 6);
  shown.forEach((i, j) => {
    if (j % every) return;
    chart.append(svg('text', { x: x(j) - 16, y: H - 10 }, months[i]));
  });
  series.forEach((s, c) => {
    const pts = [];
    shown.forEach((i, j) => {
      const p = s.points[key]?.[i];
      if (p && p.n > 0 && p.rate !== null) pts.push([x(j), y(Number(p.rate)), p, months[i]]);
    });
    if (pts.length > 1) {
      chart.append(svg('polyline', { points: pts.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' '), fill: 'none', stroke: COLORS[c], 'stroke-width': 2 }));
    }
    for (const [px, py, p, month] of pts) {
      const dot = svg('circle', { cx: px.toFixed(1), cy: py.toFixed(1), r: 3, fill: COLORS[c], 'data-n': p.n });
      dot.append(svg('title', {}, `${state.names.get(s.org) ?? s.org} ${month}: ${rateN(p.rate, p.n)}`));
      chart.append(dot);
      chart.append(svg('text', { x: (px + 4).toFixed(1), y: (py - 4).toFixed(1), class: 'n', fill: COLORS[c] }, `n=${p.n}`));
    }
  });
  const legend = el('div', { class: 'legend' });
  series.forEach((s, c) => {
    const last = [...shown].reverse().map((i) => s.points[key]?.[i]).find((p) => p && p.n > 0);
    const item = el('span', { class: 'legend-item' }, named(s.org), last ? ` ${rateN(last.rate, last.n)}` : '');
    item.style.setProperty('--c', COLORS[c]);
    legend.append(item);
  });
  box.append(chart, legend);
}

// ---- the ranking and its CSV ------------------------------------------------------------------

function renderReport() {
  const month = $('month').value;
  const report = state.reports?.get(month);
  const body = $('report').tBodies[0];
  $('report-period').textContent = month || '';
  if (!report) {
    body.replaceChildren();
    return;
  }
  const depth = state.reportsDepth ?? Number($('depth').value);
  // Each row keeps its rank among all the orgs at the depth: the org filter only hides rows.
  const rows = report.rows.filter((r) => r.org.split('/').length === depth)
    .sort((a, b) => (b.score === null) - (a.score === null) || Number(b.score) - Number(a.score) || a.org.localeCompare(b.org))
    .map((r, i) => ({ r, rank: i + 1 }))
    .filter(({ r }) => onPath(r.org));
  body.replaceChildren(...rows.map(({ r, rank }) => el('tr', { 'data-org': r.org, 'data-rank': rank },
    el('td', { class: 'num' }, rank), el('td', {}, named(r.org)), el('td', { class: 'num' }, r.accepted),
    el('td', { class: 'num' }, rateN(r.on_time_rate, r.concluded)),
    el('td', { class: 'num' }, rateN(r.satisfaction_rate, r.rated)),
    el('td', { class: 'num' }, r.red), el('td', { class: 'num' }, r.yellow),
    el('td', { class: 'num' }, r.score ?? '—'), el('td', { title: r.grade ?? '' }, r.grade ? (TEXT[state.lang].grades[r.grade] ?? r.grade) : '—'))));
}

// The report's rows as CSV, every field of the JSON rows under its JSON name (the columns of
// `jiancha report --format csv`), written from the rows the page fetched.
function reportCsv(report) {
  const keys = [];
  for (const r of report.rows) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
  const field = (v) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [keys.join(','), ...report.rows.map((r) => keys.map((k) => field(r[k])).join(','))].join('\n') + '\n';
}

function download(name, type, data) {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = el('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// A workbook of the server's (`?format=xlsx`), fetched with the token in a header and saved
// through a Blob URL, as a plain link would not carry the header.
async function workbook(url, name) {
  try {
    const res = await fetch(url, { headers: headers() });
    if (!res.ok) {
      throw refusal(res, res.headers.get('content-type')?.includes('json') ? await res.json().catch(() => null) : null);
    }
    download(name, res.headers.get('content-type'), await res.blob());
  } catch (e) {
    failed(e);
  }
}

// The month's report as the server's workbook (one sheet, Chinese headers, rates as
// percentages, missed targets highlighted).
function reportWorkbook(month, depth) {
  return workbook(`/api/v1/reports?period=${month}&by=org&depth=${depth}&format=xlsx`, `report-${month}.xlsx`);
}

// ---- the insight (辅助决策) -------------------------------------------------------------------

// The insight of a period (GET /api/v1/insights, `jiancha insight --format json`), for the
// roles `/me` lists it for: the bottlenecks as bars (p90 behind p50, n in the label), the
// forecast of the chosen series beside its backtest and error, the promised-limit
// recommendations and the hot spots as tables, every figure beside the evidence it rests on.
// Percentiles arrive as working days (an integer or a half); rates as 4-decimal numbers.

function insightQuery() {
  const q = new URLSearchParams({ period: $('insight-period').value });
  if ($('insight-org').value) q.set('org', $('insight-org').value);
  return q;
}

// The months of the page's period control; the insight opens on the last whole month (the
// current one is still filling, and the forecast's backtest would read it as a drop).
function fillInsightControls() {
  const months = lastMonths(state.now ?? state.me?.clock.now);
  const select = $('insight-period');
  const chosen = select.value || months[months.length - 2];
  select.replaceChildren(...months.map((m) => el('option', { value: m }, m)));
  select.value = months.includes(chosen) ? chosen : months[months.length - 2];
  const rows = state.overview?.rows ?? [];
  fillSelect($('insight-org'), rows.map((r) => [r.org, state.names.get(r.org) ?? r.org]));
}

async function loadInsight() {
  if (!reads('insight')) return true;
  fillInsightControls();
  const seq = ++state.insightSeq;
  try {
    const insight = await api(`/api/v1/insights?${insightQuery()}`);
    if (seq !== state.insightSeq) return true;
    for (const s of [...insight.bottlenecks.items, ...insight.recommendations, ...insight.hot_spots.items]) {
      if (s.item && s.name) state.names.set(s.item, s.name);
    }
    for (const s of [...insight.bottlenecks.orgs, ...insight.hot_spots.orgs]) {
      if (s.org && s.name) state.names.set(s.org, s.name);
    }
    state.insight = insight;
    state.insightDrawn += 1;
    renderInsight();
    return true;
  } catch (e) {
    if (seq !== state.insightSeq) return true;
    failed(e);
    return false;
  }
}

function renderInsight() {
  const insight = state.insight;
  if (!insight) return;
  $('insight-label').textContent = insight.org ? `${insight.period} · ${state.names.get(insight.org) ?? insight.org}` : insight.period;
  $('insight-now').textContent = `${t('as_of')} ${local(insight.now)}`;
  for (const b of $('bottleneck-by').querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.by === state.bottleneckBy));
  drawBottlenecks($('chart-bottlenecks'), bottleneckRows(insight, state.bottleneckBy));
  fillForecastSeries(insight);
  drawForecast($('chart-forecast'), $('forecast-error'), insight.forecast.find((f) => forecastKey(f) === $('forecast-series').value));
  renderRecommendations(insight.recommendations);
  renderHotSpots(insight.hot_spots);
}

// The rows of one bottleneck view, slowest first (p90, then p50, then the most conclusions),
// the first BOTTLENECK_BARS_MAX of them, each as { key, label, n, p50, p90, max, limit }.
function bottleneckRows(insight, by) {
  const rows = insight.bottlenecks[by].map((r) => {
    if (by === 'steps') {
      const step = r.step === '(conclusion)' ? t('to_conclusion') : r.step;
      return { key: `${r.item}#${r.step_index}`, label: `${r.item_name ?? r.item} · ${step}`, title: r.item, n: r.n, p50: r.p50, p90: r.p90, max: r.max };
    }
    const code = by === 'items' ? r.item : r.org;
    return { key: code, label: r.name ?? code, title: code, n: r.n, p50: r.p50, p90: r.p90, max: r.max, limit: r.promised_limit_days };
  });
  rows.sort((a, b) => b.p90 - a.p90 || b.p50 - a.p50 || b.n - a.n || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return rows.slice(0, BOTTLENECK_BARS_MAX);
}

const clip = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

// Horizontal bars: the p90 light, the p50 dark over it, the item's promised limit a dashed
// tick; the label carries n, the end of the bar the two figures.
function drawBottlenecks(box, rows) {
  box.replaceChildren();
  if (!rows.length) {
    box.append(el('p', { class: 'empty' }, t('no_data')));
    return;
  }
  const W = 560, L = 200, R = 90, ROW = 22, T = 4;
  const H = T + rows.length * ROW + 18;
  const top = Math.max(1, ...rows.map((r) => Math.max(r.p90, r.limit ?? 0)));
  const x = (v) => L + (v / top) * (W - L - R);
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img' });
  for (const v of [0, top / 2, top]) {
    chart.append(svg('line', { x1: x(v), x2: x(v), y1: T, y2: H - 16, class: 'axis' }));
    chart.append(svg('text', { x: x(v) - 4, y: H - 4 }, String(Math.round(v))));
  }
  rows.forEach((r, i) => {
    const y = T + i * ROW;
    const bar = svg('g', { class: 'bar', 'data-key': r.key, 'data-n': r.n, 'data-p50': r.p50, 'data-p90': r.p90 });
    bar.append(svg('title', {}, `${r.title} · n=${r.n} · P50 ${r.p50} · P90 ${r.p90} · ${t('max')} ${r.max}${r.limit ? ` · ${t('promised_limit')} ${r.limit}` : ''}`));
    bar.append(svg('text', { x: 2, y: y + 14, class: 'label' }, `${clip(r.label, 16)} (n=${r.n})`));
    bar.append(svg('rect', { x: L, y: y + 3, width: Math.max(1, x(r.p90) - L).toFixed(1), height: ROW - 6, class: 'p90' }));
    bar.append(svg('rect', { x: L, y: y + 6, width: Math.max(1, x(r.p50) - L).toFixed(1), height: ROW - 12, class: 'p50' }));
    if (r.limit) bar.append(svg('line', { x1: x(r.limit), x2: x(r.limit), y1: y + 1, y2: y + ROW - 1, class: 'target' }));
    bar.append(svg('text', { x: (x(r.p90) + 4).toFixed(1), y: y + 14, class: 'value' }, `${r.p50} / ${r.p90}`));
    chart.append(bar);
  });
  const legend = el('div', { class: 'legend' });
  for (const [cls, key] of [['p50', 'median'], ['p90', 'p90'], ['target', 'promised_limit']]) {
    legend.append(el('span', { class: `legend-item ${cls}` }, t(key)));
  }
  box.append(chart, legend);
}

const forecastKey = (f) => `${f.dimension}:${f.key}`;

function fillForecastSeries(insight) {
  const select = $('forecast-series');
  const chosen = select.value;
  const label = (f) => (f.dimension === 'all' ? t('forecast_all')
    : `${t(f.dimension === 'item' ? 'item' : 'org')} · ${f.name ?? f.key}`);
  select.replaceChildren(...insight.forecast.map((f) => el('option', { value: forecastKey(f), title: f.key }, label(f))));
  const keys = insight.forecast.map(forecastKey);
  select.value = keys.includes(chosen) ? chosen : (keys.includes('all:') ? 'all:' : keys[0] ?? '');
}

// The series' last 12 known months (accepted), the backtest's forecasts of the last known
// months (hollow, dashed) and the months ahead (filled, dashed, each with its figure); below,
// the backtest error as the server computed it.
function drawForecast(box, note, f) {
  box.replaceChildren();
  note.replaceChildren();
  delete note.dataset.rate;
  if (!f) {
    box.append(el('p', { class: 'empty' }, t('no_data')));
    return;
  }
  const known = f.history.slice(-FORECAST_KNOWN_MONTHS);
  const months = [...known.map((m) => m.month), ...f.months.map((m) => m.month)];
  const at = new Map(months.map((m, i) => [m, i]));
  const W = 560, H = 220, L = 40, R = 32, T = 14, B = 30;
  const top = Math.max(1, ...known.map((m) => m.accepted), ...f.months.map((m) => m.accepted), ...f.backtest.map((b) => b.forecast));
  const x = (m) => L + (at.get(m) * (W - L - R)) / Math.max(1, months.length - 1);
  const y = (v) => T + (1 - v / top) * (H - T - B);
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img' });
  for (const v of [0, Math.round(top / 2), top]) {
    chart.append(svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'axis' }));
    chart.append(svg('text', { x: 2, y: y(v) + 3 }, String(v)));
  }
  months.forEach((m, i) => {
    if (i % 3 === 0 || i === months.length - 1) chart.append(svg('text', { x: x(m) - 16, y: H - 10 }, m));
  });
  const line = (points, cls) => chart.append(svg('polyline', { class: cls, fill: 'none', points: points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' ') }));
  const actual = known.map((m) => [x(m.month), y(m.accepted)]);
  line(actual, 'actual');
  const backtest = f.backtest.filter((b) => at.has(b.month));
  line(backtest.map((b) => [x(b.month), y(b.forecast)]), 'backtest');
  const last = known[known.length - 1];
  line([...(last ? [[x(last.month), y(last.accepted)]] : []), ...f.months.map((m) => [x(m.month), y(m.accepted)])], 'forecast');
  for (const m of known) {
    const dot = svg('circle', { cx: x(m.month).toFixed(1), cy: y(m.accepted).toFixed(1), r: 2.5, class: 'actual', 'data-month': m.month, 'data-value': m.accepted });
    dot.append(svg('title', {}, `${m.month}: ${t('actual')} ${m.accepted}`));
    chart.append(dot);
  }
  for (const b of backtest) {
    const dot = svg('circle', { cx: x(b.month).toFixed(1), cy: y(b.forecast).toFixed(1), r: 3, class: 'backtest', 'data-month': b.month, 'data-forecast': b.forecast, 'data-actual': b.actual });
    dot.append(svg('title', {}, `${b.month}: ${t('backtest')} ${b.forecast} · ${t('actual')} ${b.actual}`));
    chart.append(dot);
  }
  for (const m of f.months) {
    const dot = svg('circle', { cx: x(m.month).toFixed(1), cy: y(m.accepted).toFixed(1), r: 3.5, class: 'forecast', 'data-month': m.month, 'data-value': m.accepted });
    dot.append(svg('title', {}, `${m.month}: ${t('forecasted')} ${m.accepted} (${m.base_month}: ${m.base})`));
    chart.append(dot);
    chart.append(svg('text', { x: (x(m.month) - 6).toFixed(1), y: (y(m.accepted) - 6).toFixed(1), class: 'n' }, String(m.accepted)));
  }
  const legend = el('div', { class: 'legend' });
  for (const key of ['actual', 'backtest', 'forecasted']) legend.append(el('span', { class: `legend-item ${key}` }, t(key)));
  box.append(chart, legend);
  const actualSum = f.backtest.reduce((n, b) => n + b.actual, 0);
  if (f.backtest_error_rate === null) {
    note.textContent = t('backtest_none');
    return;
  }
  note.dataset.rate = String(f.backtest_error_rate);
  note.textContent = t('backtest_error').replace('{rate}', pct2(f.backtest_error_rate)).replace('{k}', f.backtest.length)
    .replace('{abs}', f.backtest_abs_error).replace('{actual}', actualSum);
}

// A 4-decimal rate as a percentage with its two decimals: nothing rounded away.
const pct2 = (rate) => (rate === null || rate === undefined ? '—' : `${(Number(rate) * 100).toFixed(2)}%`);

function emptyRow(body, columns, key) {
  body.replaceChildren(el('tr', { class: 'empty' }, el('td', { colSpan: columns, class: 'empty' }, t(key))));
}

function renderRecommendations(recs) {
  const body = $('recommendations').tBodies[0];
  if (!recs.length) {
    emptyRow(body, 9, 'recommendations_none');
    return;
  }
  body.replaceChildren(...recs.map((r) => el('tr', { 'data-item': r.item },
    el('td', {}, named(r.item)), el('td', { class: 'num' }, r.n), el('td', { class: 'num' }, r.p50),
    el('td', { class: 'num' }, r.p90), el('td', { class: 'num' }, rateN(r.on_time_rate, r.n)),
    el('td', { class: 'num' }, r.promised_limit_days),
    el('td', { class: r.suggested_promise_days === null ? 'num' : 'num suggested' }, r.suggested_promise_days ?? '—'),
    el('td', { class: r.flag ? 'flag' : '' }, r.flag ? (TEXT[state.lang].flags[r.flag] ?? r.flag) : ''),
    el('td', {}, `${r.months[0]} – ${r.months[1]}`))));
}

function renderHotSpots(hot) {
  const orgs = $('hot-orgs').tBodies[0];
  if (!hot.orgs.length) emptyRow(orgs, 4, 'hot_orgs_none');
  else {
    orgs.replaceChildren(...hot.orgs.map((h) => el('tr', { 'data-org': h.org },
      el('td', {}, named(h.org)),
      el('td', {}, `${h.months[0].month} – ${h.months[h.months.length - 1].month}`),
      el('td', { class: 'num' }, h.months.map((m) => `${m.cards}/${m.accepted}`).join(' → ')),
      el('td', { class: 'num' }, h.months.map((m) => m.per_100 ?? '—').join(' → ')))));
  }
  const items = $('hot-items').tBodies[0];
  const repeated = hot.items.filter((i) => i.repeated > 0).slice(0, HOT_ITEMS_MAX);
  if (!repeated.length) emptyRow(items, 4, 'hot_items_none');
  else {
    items.replaceChildren(...repeated.map((i) => el('tr', { 'data-item': i.item },
      el('td', {}, named(i.item)), el('td', { class: 'num' }, i.submitted), el('td', { class: 'num' }, i.repeated),
      el('td', { class: 'num' }, rateN(i.rate, i.submitted)))));
  }
}

// The insight as the server's workbook (`?format=xlsx`), fetched with the token.
function insightWorkbook() {
  if (!$('insight-period').value) return;
  workbook(`/api/v1/insights?${insightQuery()}&format=xlsx`, `insight-${$('insight-period').value}.xlsx`);
}

// ---- the case -------------------------------------------------------------------------------

// The case's evidence pack from the server (the bytes `jiancha evidence` prints), saved under
// the name the server gives it.
async function evidencePack(id) {
  try {
    const res = await fetch(`/api/v1/cases/${encodeURIComponent(id)}/evidence`, { headers: headers() });
    if (!res.ok) {
      throw refusal(res, res.headers.get('content-type')?.includes('json') ? await res.json().catch(() => null) : null);
    }
    download(`${id}-evidence.json`, 'application/json', await res.text());
  } catch (e) {
    caseFailed(e);
  }
}

// A case that cannot be read: not found, not allowed, or the refusal's kind and words.
function caseFailed(e) {
  showMessage(e.status === 404 ? () => t('not_found') : () => describe(e), isTransient(e), 'case');
}

async function lookup(id) {
  state.caseDoc = null;
  renderCase();
  const epoch = state.epoch;
  try {
    const enc = encodeURIComponent(id);
    const [view, history, ledger] = await Promise.all([
      api(`/api/v1/cases/${enc}`), api(`/api/v1/cases/${enc}/history`), api(`/api/v1/cases/${enc}/ledger`),
    ]);
    if (epoch !== state.epoch) return;
    learnNames(view);
    state.caseDoc = { case: id, view, history, ledger };
    // A case read: the failure of an earlier lookup is over (other messages stay).
    if (state.messageSource === 'case') showMessage('');
    renderCase();
  } catch (e) {
    if (epoch === state.epoch) caseFailed(e);
  }
}

function renderCase() {
  const doc = state.caseDoc;
  const view = $('case-view');
  $('evidence').hidden = !doc;
  if (!doc) {
    for (const id of ['case-view', 'timeline', 'case-alerts', 'case-ledger']) $(id).replaceChildren();
    return;
  }
  const c = doc.view;
  const facts = c.kind === 'procurement' ? projectFacts(c) : [
    ['item', named(c.item)], ['org', named(c.org)], ['state', TEXT[state.lang].states[c.status] ?? c.status],
    ['promised_due_on', c.promised_due_on ?? '—'], ['statutory_due_on', c.statutory_due_on ?? '—'],
    ['used_days', c.used_days ?? '—'], ['remaining_days', c.remaining_days ?? '—'],
    ['on_time', c.on_time === null || c.on_time === undefined ? '—' : t(c.on_time ? 'yes' : 'no')],
  ];
  view.replaceChildren(...facts.flatMap(([k, v]) => [el('dt', {}, t(k)), el('dd', {}, v)]));
  $('timeline').replaceChildren(...doc.history.events.map((e) => el('li', { 'data-position': e.position, 'data-type': e.type, title: e.type },
    el('strong', {}, eventName(e.type)), ' ', el('span', { class: 'muted' }, `${local(e.occurred_at)} · `, el('bdi', {}, e.actor), ' · ', named(e.org)))));
  const alerts = doc.history.alerts;
  $('case-alerts').replaceChildren(...(alerts.length ? alerts.map((a) => el('li', { class: a.severity, 'data-alert-id': a.id },
    el('span', { class: `badge ${a.severity}` }, t(a.severity)), ' ', el('strong', {}, ruleName(a.rule)), ' ',
    el('span', { class: 'muted' }, `${t('raised')} ${local(a.raised_at)}${a.closed_at ? ` · ${t('closed')} ${local(a.closed_at)}` : ''}`)))
    : [el('li', { class: 'empty' }, t('no_entries'))]));
  const entries = doc.ledger.entries;
  $('case-ledger').replaceChildren(...(entries.length ? entries.map((e) => el('li', { 'data-entry': e.id },
    el('strong', {}, e.measure), ' ', `${e.month} · ${ruleName(e.rule)} · ${e.amount > 0 ? '+' : ''}${e.amount}`,
    e.points ? ` · ${e.points}` : '', ' ', el('span', { class: 'muted' }, `${e.kind}${e.pending ? ' · pending' : ''} · #${e.caused_by}`)))
    : [el('li', { class: 'empty' }, t('no_entries'))]));
}

// A procurement project's facts: what it is, where it stands, and each due date in the unit its
// rule counts in (GET /api/v1/cases/proc-… answers the project view).
function projectFacts(p) {
  const deadlines = p.deadlines.map((d) => `${d.due_on} ${ruleName(d.rule)} (${d.days} ${t(`${d.unit}_days`)})${d.done_on ? ` ✓ ${d.done_on}` : ''}`);
  return [
    ['project', p.project], ['method', `${p.regime} · ${p.method}`], ['org', named(p.org)],
    ['state', TEXT[state.lang].states[p.status] ?? p.status], ['budget', (p.budget_cents / 100).toFixed(2)],
    ['deadlines', deadlines.length ? deadlines.join('；') : '—'],
  ];
}

// The cases whose promised due date falls within the next `days` working days (0: today), by
// due date, each opening the case.
async function dueCases(days) {
  state.due = null;
  renderDue();
  const epoch = state.epoch;
  try {
    const page = await api(`/api/v1/cases?due_within=${days}&limit=500`);
    if (epoch !== state.epoch) return;
    state.due = { days, cases: page.cases, more: !!page.next_cursor };
    page.cases.forEach(learnNames);
    renderDue();
  } catch (e) {
    if (epoch === state.epoch) failed(e);
  }
}

// The due cases read, their orgs and items by the names the list gives (else the names the page
// knows; codes in tooltips).
function renderDue() {
  const due = state.due;
  const list = $('due');
  if (!due) {
    list.replaceChildren();
    $('due-count').textContent = '';
    $('due-empty').textContent = t('due_empty');
    $('due-empty').hidden = false;
    return;
  }
  list.replaceChildren(...due.cases.map((c) => el('li', { 'data-case': c.stream }, caseLink(c.stream), ' ',
    el('span', {}, `${c.promised_due_on} · ${TEXT[state.lang].states[c.status] ?? c.status}`), ' ',
    el('span', { class: 'muted' }, named(c.org, c.org_name), ' · ', named(c.item, c.item_name), ` · ${t('remaining_days')} ${c.remaining_days ?? '—'}`))));
  $('due-count').textContent = `${due.cases.length}${due.more ? '+' : ''}`;
  $('due-empty').textContent = due.cases.length ? '' : t('due_none');
  $('due-empty').hidden = due.cases.length > 0;
}

// ---- start ----------------------------------------------------------------------------------

// Forgets everything the previous token read or chose: its cards, its case, its filters, its
// depth, its figures. Answers still on their way to it are dropped (the epoch).
function reset() {
  state.epoch += 1;
  state.me = null;
  state.now = null;
  state.lastId = null;
  state.open = new Map();
  state.promptsLoaded = false;
  state.loading = false;
  state.buffered = [];
  state.overview = null;
  state.orders = null;
  state.reports = null;
  state.reportsDepth = null;
  state.closes = new Map();
  state.chartsSeries = null;
  state.insight = null;
  state.insightSeq += 1;
  state.cardsSeq += 1;
  state.cards = noCards();
  state.caseDoc = null;
  state.due = null;
  state.filters = { org: '', rule: '', severity: '' };
  state.streamLive = false;
  state.streamNote = null;
  state.broken = null;
  for (const timer of state.refreshTimers.values()) clearTimeout(timer);
  state.refreshTimers.clear();
  state.refreshAt.clear();
  $('case-id').value = '';
  // The filters show what they filter by: nothing now (fillSelect keeps a value still offered).
  for (const id of ['filter-org', 'filter-rule', 'filter-severity', 'insight-org']) $(id).value = '';
  $('depth').value = '2';
  $('month').replaceChildren();
  $('insight-period').replaceChildren();
  state.live = [];
  for (const id of ['chart-on-time', 'chart-satisfaction', 'chart-correction', 'chart-rectification', 'chart-bottlenecks', 'chart-forecast', 'forecast-error', 'insight-label', 'insight-now']) {
    $(id).replaceChildren();
  }
  for (const id of ['recommendations', 'hot-orgs', 'hot-items']) $(id).tBodies[0].replaceChildren();
  selectKind('approval');
  applyRole();
  setStatus('idle');
  renderCase();
  applyLanguage();
}

async function connect() {
  if (state.stream) state.stream.abort();
  state.stream = null;
  stopPolling();
  if (state.clockPoll) clearInterval(state.clockPoll);
  state.clockPoll = null;
  reset();
  if (state.auth && !state.token) {
    setStatus('idle');
    showMessage(() => t('need_token'));
    return;
  }
  showMessage('');
  const epoch = state.epoch;
  let me;
  try {
    me = await api('/api/v1/me');
  } catch (e) {
    if (epoch !== state.epoch) return;
    setStatus('error');
    failed(e);
    return;
  }
  if (epoch !== state.epoch) return;
  state.me = me;
  applyRole();
  // A unit's own rows are at its org's depth: the charts, ranking and download start there;
  // everyone else starts at the towns and the center (2).
  const depth = state.me.org ? Math.min(Math.max(state.me.org.split('/').length, 2), $('depth').options.length) : 2;
  $('depth').value = String(depth);
  // A simulated clock (`demo --serve`) runs fast: the header follows it.
  if (state.me.clock.simulated) {
    state.clockPoll = setInterval(async () => {
      try {
        const me = await api('/api/v1/me');
        state.me.clock = me.clock;
        state.now = me.clock.now;
        renderWho();
      } catch (e) {
        // The next tick tries again; the stream says whether the server is gone.
      }
    }, CLOCK_POLL_MS);
  }
  if (reads('cases')) {
    const controller = new AbortController();
    state.stream = controller;
    follow(controller.signal);
  } else {
    // No live stream for this role: its figures are fetched now and on a timer (polling once
    // read).
    setStatus('connecting');
    startPolling();
  }
}

function start() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get('token')) {
    state.token = fragment.get('token');
    sessionStorage.setItem('jiancha.token', state.token);
    history.replaceState(null, '', location.pathname + location.search);
  }
  if (fragment.get('lang') === 'en' || fragment.get('lang') === 'zh') state.lang = fragment.get('lang');
  $('lang').addEventListener('click', () => {
    state.lang = state.lang === 'zh' ? 'en' : 'zh';
    localStorage.setItem('jiancha.lang', state.lang);
    applyLanguage();
  });
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    state.token = $('token').value.trim();
    sessionStorage.setItem('jiancha.token', state.token);
    $('token').value = '';
    connect();
  });
  $('case-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const id = $('case-id').value.trim();
    if (id) lookup(id);
  });
  for (const id of ['due-today', 'due-week']) {
    $(id).addEventListener('click', (e) => dueCases(Number(e.currentTarget.dataset.days)));
  }
  for (const th of $('overview').tHead.rows[0].cells) {
    th.addEventListener('click', () => {
      const key = th.dataset.sort;
      state.sort = { key, desc: state.sort.key === key ? !state.sort.desc : key !== 'org' };
      renderOverview();
    });
  }
  // The org filter narrows what the role reads: the overview, the charts and the ranking, and
  // lists the org's cards for a role that reads them (never a request the role may not make).
  $('filter-org').addEventListener('change', (e) => {
    state.filters.org = e.target.value;
    renderOverview();
    if (state.reports) buildCharts();
    if (e.target.value && reads('cases')) selectOrg(ownOrg(e.target.value));
  });
  for (const [id, key] of [['filter-rule', 'rule'], ['filter-severity', 'severity']]) {
    $(id).addEventListener('change', (e) => {
      state.filters[key] = e.target.value;
      loadOverview();
      if (state.cards.org !== null) selectOrg(state.cards.org);
    });
  }
  for (const b of document.querySelectorAll('#cards-kind button')) b.addEventListener('click', () => selectKind(b.dataset.kind));
  $('cards-prev').addEventListener('click', () => loadCards(Math.max(0, state.cards.page - 1)));
  $('cards-next').addEventListener('click', () => { if (state.cards.next) loadCards(state.cards.page + 1); });
  $('depth').addEventListener('change', loadCharts);
  $('month').addEventListener('change', () => { renderMonth(); renderReport(); });
  $('report-csv').addEventListener('click', (e) => {
    e.preventDefault();
    const month = $('month').value;
    const report = state.reports?.get(month);
    if (report) download(`report-${month}.csv`, 'text/csv;charset=utf-8', '\ufeff' + reportCsv(report));
  });
  $('report-xlsx').addEventListener('click', (e) => {
    e.preventDefault();
    if ($('month').value) reportWorkbook($('month').value, $('depth').value);
  });
  for (const id of ['insight-period', 'insight-org']) $(id).addEventListener('change', loadInsight);
  $('forecast-series').addEventListener('change', renderInsight);
  for (const b of $('bottleneck-by').querySelectorAll('button')) {
    b.addEventListener('click', () => {
      state.bottleneckBy = b.dataset.by;
      renderInsight();
    });
  }
  $('insight-xlsx').addEventListener('click', (e) => {
    e.preventDefault();
    insightWorkbook();
  });
  $('evidence').addEventListener('click', (e) => {
    e.preventDefault();
    if (state.caseDoc) evidencePack(state.caseDoc.case);
  });
  // A page left (or kept in the back-forward cache) gives its stream's connection back: the
  // browser holds only six to this origin.
  window.addEventListener('pagehide', () => {
    if (state.stream) state.stream.abort();
    state.stream = null;
  });
  applyLanguage();
  api('/healthz')
    .then((health) => { state.auth = health.auth !== false; })
    .catch(failed)
    .finally(connect);
}

start();
