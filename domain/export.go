package domain

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// ExportSheet is one sheet of the ledger export: Chinese headers and rows
// of strings and numbers.
type ExportSheet struct {
	Key    string // villages, problems, targets, disputes, projects, funds, summary
	Name   string // the sheet's Chinese name
	Header []string
	Rows   [][]any
}

// ExportSheets lists the sheets in order.
var ExportSheets = []string{"villages", "problems", "targets", "disputes", "projects", "funds", "summary"}

// MetricTitles are the metrics' Chinese names.
var MetricTitles = map[string]string{
	"leader_research_visits": "包靠区级领导实地调研(次)", "unit_research_visits": "单位调研(人次)", "committee_meetings": "召开\u201c两委\u201d班子会议(次)",
	"meetings": "会议(次)", "party_members_visited": "走访党员(人)", "households_visited": "走访群众(户)",
	"conflicts_identified": "排查突出矛盾问题(个)", "disputes_resolved": "解决矛盾纠纷(起)", "losses_recovered_fen": "挽回经济损失(元)",
	"reserve_candidates": "筛选后备人选(人)", "targets_set": "确定任务目标(项)", "targets_done": "完成任务目标(项)",
	"targets_overdue": "逾期未完成目标(项)", "problems_listed": "问题清单(个)", "problems_resolved": "破解难题(个)",
	"projects_active": "在建工程项目(个)", "funds_fen": "帮扶资金(元)", "checkins": "主动签到(人天)", "onpost_days": "在岗天数(人天)", "leave_days": "请假天数(人天)", "onpost_rate": "在岗率",
	"photos": "照片(张)",
}

// BasisTitles name the bases of counting in the ledger.
var BasisTitles = map[string]string{BasisReported: "上报口径（全部已报记录）", BasisApproved: "审核口径（仅审核通过记录）"}

var lightNames = map[string]string{LightGreen: "绿灯", LightYellow: "黄灯", LightRed: "红灯"}

func yuan(fen int64) float64 { return float64(fen) / 100 }

// ExportService assembles the ledger (整顿台账) of a town, or of the
// caller's scope, for a period.
type ExportService struct {
	Stats      StatsService
	Field      FieldService
	Catalogues CatalogueStore
}

// Sheets returns the sheets asked for (all when keys is empty).
func (s ExportService) Sheets(ctx context.Context, c Caller, townID string, p Period, basis string, keys ...string) ([]ExportSheet, error) {
	if len(keys) == 0 {
		keys = ExportSheets
	}
	rows, err := s.Stats.Villages(ctx, c, townID, p, basis)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	in := map[string]bool{}
	for _, r := range rows {
		names[r.Village.ID] = r.Village.Name
		in[r.Village.ID] = true
	}
	catNames := map[string]string{}
	for _, k := range []CatalogueKind{CatProblemAspects, CatDomains, CatTasks} {
		items, err := s.Catalogues.Catalogue(ctx, k)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			catNames[string(k)+"/"+it.Code] = it.Name
		}
	}
	cat := func(k CatalogueKind, code string) string {
		if n, ok := catNames[string(k)+"/"+code]; ok {
			return n
		}
		return code
	}
	snap, err := s.Stats.Ledger.LedgerSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	var out []ExportSheet
	for _, key := range keys {
		sh := ExportSheet{Key: key}
		switch key {
		case "villages":
			sh.Name = "村居"
			sh.Header = []string{"村(居)", "编码", "整顿级别", "工作组组长", "亮灯", "亮灯依据", "考核得分", "亮灯原因", "统计口径"}
			for _, name := range MetricNames {
				sh.Header = append(sh.Header, MetricTitles[name])
			}
			for _, r := range rows {
				level := map[Level]string{LevelDistrict: "区级", LevelTown: "镇级"}[r.Level]
				leader := ""
				if r.Team != nil {
					leader = snap.UserNames[r.Team.LeaderID]
				}
				source := map[string]string{LightFinal: "半年考核（定稿）", LightDraft: "半年考核（草稿）", LightProvisional: "动态监测"}[r.Light.Source]
				var reasons []string
				for _, rs := range r.Light.Reasons {
					reasons = append(reasons, reasonTitle(rs))
				}
				var total any = ""
				if r.Light.Source != LightProvisional {
					total = r.Light.Total
				}
				row := []any{r.Village.Name, r.Village.Code, level, leader, lightNames[r.Light.Light], source, total, strings.Join(reasons, "；"), BasisTitles[basis]}
				row = append(row, metricCells(r.Metrics)...)
				sh.Rows = append(sh.Rows, row)
			}
		case "problems":
			sh.Name = "问题清单"
			sh.Header = []string{"村(居)", "问题方面", "问题描述", "来源", "状态", "解决情况", "解决日期"}
			for _, pb := range snap.Problems {
				if in[pb.VillageID] {
					sh.Rows = append(sh.Rows, []any{names[pb.VillageID], cat(CatProblemAspects, pb.Aspect), pb.Description, pb.Source,
						statusTitle(pb.Status), pb.Resolution, pb.ResolvedAt})
				}
			}
		case "targets":
			sh.Name = "目标任务"
			sh.Header = []string{"村(居)", "领域", "具体任务", "类型", "目标事项", "年度", "完成时限", "进度(%)"}
			for _, t := range snap.Targets {
				y := fmt.Sprintf("%04d", t.Year)
				if in[t.VillageID] && y >= p.From[:4] && y <= p.To[:4] {
					sh.Rows = append(sh.Rows, []any{names[t.VillageID], cat(CatDomains, t.Domain), cat(CatTasks, t.Task),
						map[string]string{"common": "共性", "differentiated": "差异化"}[t.Kind], t.Title, t.Year, t.Due, t.Percent})
				}
			}
		case "disputes", "projects", "funds":
			typ := map[string]RecordType{"disputes": TypeDispute, "projects": TypeProject, "funds": TypeFund}[key]
			recs, err := s.records(ctx, c, townID, typ)
			if err != nil {
				return nil, err
			}
			switch key {
			case "disputes":
				sh.Name = "矛盾纠纷"
				sh.Header = []string{"村(居)", "发现日期", "类别", "当事人", "情况", "状态", "化解日期", "化解结果", "挽回损失(元)", "上报部门"}
				for _, r := range recs {
					d := r.Dispute
					day := d.IdentifiedAt.In(s.Stats.Loc).Format(DateLayout)
					resolved := ""
					if d.ResolvedAt != nil {
						resolved = d.ResolvedAt.In(s.Stats.Loc).Format(DateLayout)
					}
					if (day < p.From || day > p.To) && (resolved == "" || resolved < p.From || resolved > p.To) {
						continue
					}
					sh.Rows = append(sh.Rows, []any{names[r.VillageID], day, d.Category, strings.Join(d.Parties, "、"), d.Description,
						d.Status, resolved, d.Resolution, yuan(d.LossesRecoveredFen), d.EscalatedTo})
				}
			case "projects":
				sh.Name = "工程项目"
				sh.Header = []string{"村(居)", "项目名称", "类型", "预算(元)", "阶段", "开工日期", "完工日期"}
				for _, r := range recs {
					pr := r.Project
					sh.Rows = append(sh.Rows, []any{names[r.VillageID], pr.Name, pr.ProjectType, yuan(pr.BudgetFen), pr.Stage, pr.StartedOn, pr.CompletedOn})
				}
			case "funds":
				sh.Name = "帮扶资金"
				sh.Header = []string{"村(居)", "金额(元)", "来源", "用途", "到账日期"}
				for _, r := range recs {
					fd := r.Fund
					if fd.ReceivedOn < p.From || fd.ReceivedOn > p.To {
						continue
					}
					src := fd.Source
					if src == "" {
						src = fd.SourceUnitID
					}
					sh.Rows = append(sh.Rows, []any{names[r.VillageID], yuan(fd.AmountFen), src, fd.Purpose, fd.ReceivedOn})
				}
			}
		case "summary":
			sh.Name = "汇总"
			sh.Header = []string{"指标", "数值"}
			sc := districtStats()
			if townID != "" {
				sc = townStats(townID)
			} else if !c.ReadsAll() {
				return nil, &Error{Kind: KindInvalid, Code: "validation_failed", Message: "the request has invalid fields",
					Fields: []FieldError{{Field: "townId", Code: FieldRequired, Message: "give the town the summary is of"}}}
			}
			sum, err := s.Stats.summary(ctx, sc, p, snap)
			if err != nil {
				return nil, err
			}
			for i, name := range MetricNames {
				sh.Rows = append(sh.Rows, []any{MetricTitles[name], metricCells(sum.Metrics)[i]})
			}
		default:
			return nil, NotFound("sheet")
		}
		out = append(out, sh)
	}
	return out, nil
}

func metricCells(m map[string]any) []any {
	out := make([]any, 0, len(MetricNames))
	for _, name := range MetricNames {
		v := m[name]
		switch n := v.(type) {
		case int64:
			if strings.HasSuffix(name, "_fen") {
				out = append(out, yuan(n))
			} else {
				out = append(out, n)
			}
		case float64:
			out = append(out, n)
		default:
			out = append(out, "")
		}
	}
	return out
}

func statusTitle(s string) string {
	return map[string]string{StatusOpen: "未解决", StatusInProgress: "推进中", StatusResolved: "已解决"}[s]
}

func reasonTitle(r LightReason) string {
	t := map[string]string{ReasonNoOnPost: "7天无在岗工作记录", ReasonTargetsOverdue: "目标逾期", ReasonDisputesOpen: "纠纷超30天未化解",
		ReasonProblemsPending: "问题未解决"}[r.Code]
	if r.Count > 0 {
		t += fmt.Sprintf("(%d)", r.Count)
	}
	return t
}

// records reads every live record of a type in the town (or scope).
func (s ExportService) records(ctx context.Context, c Caller, townID string, typ RecordType) ([]Record, error) {
	var out []Record
	var after *RecordCursor
	for range 10000 {
		rs, err := s.Field.List(ctx, c, ListQuery{TownID: townID, Filter: RecordFilter{Type: typ}, After: after, Limit: MaxPageLimit})
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
		if len(rs) < MaxPageLimit {
			break
		}
		last := rs[len(rs)-1]
		after = &RecordCursor{At: last.At, ID: last.ID}
	}
	slices.SortFunc(out, func(a, b Record) int { return a.At.Compare(b.At) })
	return out, nil
}

// SafeCell makes a text cell safe to open in a spreadsheet: text that
// would start a formula (=, +, -, @, or a tab or carriage return first)
// gets a leading apostrophe.
func SafeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
