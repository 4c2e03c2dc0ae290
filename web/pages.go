package web

import (
	"cmp"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"zhucun/domain"
	"zhucun/sheets"
)

// metric is how a count is named and shown.
type metric struct {
	Key, Label, Unit string
	Money            bool // fen, shown in 万元
}

// metrics are the counts the console shows, the report's first.
var metrics = []metric{
	{Key: "leader_research_visits", Label: "包靠区级领导实地调研", Unit: "次"},
	{Key: "unit_research_visits", Label: "派出单位调研", Unit: "人次"},
	{Key: "committee_meetings", Label: "召开“两委”班子会议", Unit: "次"},
	{Key: "party_members_visited", Label: "走访党员", Unit: "人"},
	{Key: "households_visited", Label: "走访群众", Unit: "户"},
	{Key: "conflicts_identified", Label: "排查突出矛盾问题", Unit: "件"},
	{Key: "disputes_resolved", Label: "解决矛盾纠纷", Unit: "件"},
	{Key: "losses_recovered_fen", Label: "挽回经济损失", Unit: "万元", Money: true},
	{Key: "reserve_candidates", Label: "筛选培养后备人选", Unit: "人"},
	{Key: "targets_set", Label: "确定整顿目标事项", Unit: "项"},
	{Key: "projects_active", Label: "在建工程项目", Unit: "个"},
	{Key: "funds_fen", Label: "帮扶资金", Unit: "万元", Money: true},
	{Key: "problems_listed", Label: "问题清单", Unit: "个"},
	{Key: "problems_resolved", Label: "破解难题", Unit: "个"},
	{Key: "targets_done", Label: "完成目标事项", Unit: "项"},
	{Key: "meetings", Label: "召开各类会议", Unit: "次"},
	{Key: "photos", Label: "现场照片", Unit: "张"},
	{Key: "onpost_days", Label: "在岗人天", Unit: "人天"},
}

// headline are the cards: the report's numbers.
var headline = metrics[:12]

func metricOf(key string) metric {
	for _, m := range metrics {
		if m.Key == key {
			return m
		}
	}
	return metric{Key: key, Label: key}
}

// card is one number on a page, with its raw value for checks.
type card struct {
	metric
	Value int64
	Shown string
}

func cardsOf(ms map[string]any, which []metric) []card {
	out := make([]card, 0, len(which))
	for _, m := range which {
		v := asInt(ms[m.Key])
		out = append(out, card{metric: m, Value: v, Shown: show(m, v)})
	}
	return out
}

func asInt(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int:
		return int64(n)
	case float64:
		return int64(n)
	}
	return 0
}

// show formats a count: thousands separated, money in 万元.
func show(m metric, v int64) string {
	if m.Money {
		s := strconv.FormatFloat(float64(v)/1e6, 'f', 2, 64)
		return strings.TrimSuffix(strings.TrimSuffix(s, "0"), ".0")
	}
	s := strconv.FormatInt(v, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

var lightNames = map[string]string{domain.LightRed: "红灯", domain.LightYellow: "黄灯", domain.LightGreen: "绿灯"}

var sourceNames = map[string]string{domain.LightFinal: "半年评估（定档）", domain.LightDraft: "半年评估（初评）", domain.LightProvisional: "动态研判"}

// reasonText says why a light is what it is.
func reasonText(r domain.LightReason) string {
	switch r.Code {
	case domain.ReasonNoOnPost:
		return "近7天无干部在岗记录"
	case domain.ReasonTargetsOverdue:
		return fmt.Sprintf("%d 项目标逾期未完成", r.Count)
	case domain.ReasonDisputesOpen:
		return fmt.Sprintf("%d 件矛盾纠纷超过30天未化解", r.Count)
	case domain.ReasonProblemsPending:
		return fmt.Sprintf("%d 个问题尚未解决", r.Count)
	}
	return r.Code
}

var levelNames = map[domain.Level]string{domain.LevelDistrict: "区级", domain.LevelTown: "镇级"}

var funcs = template.FuncMap{
	"light":  func(l string) string { return cmp.Or(lightNames[l], "未评定") },
	"source": func(s string) string { return sourceNames[s] },
	"reason": reasonText,
	"level":  func(l domain.Level) string { return levelNames[l] },
	"show":   func(key string, v any) string { return show(metricOf(key), asInt(v)) },
	"raw":    asInt,
	"label":  func(key string) string { return metricOf(key).Label },
	"unit":   func(key string) string { return metricOf(key).Unit },
	"roleName": func(r domain.Role) string {
		return map[domain.Role]string{domain.RoleAdmin: "组织部", domain.RoleLeader: "领导", domain.RoleTownAdmin: "乡镇（街道）",
			domain.RoleTeamLeader: "工作组组长", domain.RoleCadre: "驻村干部", domain.RoleSysAdmin: "系统管理员",
			domain.RoleSecAdmin: "安全管理员", domain.RoleAuditAdmin: "审计管理员"}[r]
	},
	"isAdmin": func(c domain.Caller) bool { return c.Role == domain.RoleAdmin },
	"reads":   func(c domain.Caller) bool { return c.ReadsAll() },
	"campaign": func(c domain.Caller) bool {
		return slices.Contains(domain.CampaignRoles, c.Role)
	},
	"reviewer":  func(c domain.Caller) bool { return slices.Contains(reviewers, c.Role) },
	"dept":      func(c domain.Caller) bool { return slices.Contains(department, c.Role) },
	"date":      func(s string) string { return s },
	"tierCount": func(m map[domain.AgeTier]int, t string) int { return m[domain.AgeTier(t)] },
	"add":       func(a, b int) int { return a + b },
	"pct":       func(f float64) float64 { return f * 100 },
	"unitType": func(t domain.UnitType) string {
		return map[domain.UnitType]string{domain.UnitParty: "党委部门", domain.UnitPoliticalLegal: "政法部门", domain.UnitEconomic: "经济部门", domain.UnitLine: "业务部门"}[t]
	},
}

// townRow is one town of the overview's table.
type townRow struct {
	Town                domain.Town
	District, TownLevel int
	Red, Yellow, Green  int
	Cards               []card
}

// overviewView is 总览.
type overviewView struct {
	P      periodForm
	Cards  []card
	Towns  []townRow
	Map    mapView
	Trend  trendView
	Ledger string // the ledger download's link
}

// columns are the counts of the towns' and villages' tables.
var columns = []string{"households_visited", "committee_meetings", "disputes_resolved", "projects_active", "funds_fen"}

func pick(keys []string) []metric {
	out := make([]metric, len(keys))
	for i, k := range keys {
		out[i] = metricOf(k)
	}
	return out
}

// overview is 总览: the district's counts for a period, the towns, the map
// and a trend. A town admin or team member sees the towns it reaches.
func (c *Console) overview(w http.ResponseWriter, r *http.Request, rq *request) error {
	p := readPeriod(r.URL.Query(), c.cfg.Now(), c.cfg.Loc)
	v := overviewView{P: p}
	cl := rq.caller
	towns, err := domain.AllPages(func(pg domain.Page) (domain.List[domain.Town], error) {
		return c.svc.Org.ListTowns(rq.ctx, cl, domain.TownFilter{}, pg)
	})
	if err != nil {
		return err
	}
	if cl.ReadsAll() {
		sc, err := c.svc.Stats.ResolveScope(rq.ctx, cl, domain.ScopeDistrict, "")
		if err != nil {
			return err
		}
		sum, err := c.svc.Stats.Summary(rq.ctx, sc.On(p.Basis), p.Period)
		if err != nil {
			return err
		}
		v.Cards = cardsOf(sum.Metrics, headline)
		if v.Trend, err = c.trend(rq, sc.On(p.Basis), r.URL.Query().Get("metric"), p); err != nil {
			return err
		}
	} else if len(towns) == 1 && cl.Role == domain.RoleTownAdmin {
		http.Redirect(w, r, "/towns/"+towns[0].ID+"?"+string(p.Query()), http.StatusSeeOther)
		return nil
	}
	lights, err := c.svc.Stats.SelectedLights(rq.ctx, cl, "", p.Period)
	if err != nil {
		return err
	}
	villages, err := domain.AllPages(func(pg domain.Page) (domain.List[domain.Village], error) {
		return c.svc.Org.ListVillages(rq.ctx, cl, domain.VillageFilter{}, pg)
	})
	if err != nil {
		return err
	}
	townOf := map[string]string{}
	for _, vil := range villages {
		townOf[vil.ID] = vil.TownID
	}
	for _, t := range towns {
		sc, err := c.svc.Stats.ResolveScope(rq.ctx, cl, domain.ScopeTown, t.ID)
		if err != nil {
			return err
		}
		sum, err := c.svc.Stats.Summary(rq.ctx, sc.On(p.Basis), p.Period)
		if err != nil {
			return err
		}
		row := townRow{Town: t, Cards: cardsOf(sum.Metrics, pick(columns))}
		for _, l := range lights {
			if townOf[l.VillageID] != t.ID {
				continue
			}
			if l.Level == domain.LevelDistrict {
				row.District++
			} else {
				row.TownLevel++
			}
			switch l.Light.Light {
			case domain.LightRed:
				row.Red++
			case domain.LightYellow:
				row.Yellow++
			case domain.LightGreen:
				row.Green++
			}
		}
		v.Towns = append(v.Towns, row)
	}
	v.Map = drawMap(villages, lights, string(p.Query()))
	if cl.Role != domain.RoleTeamLeader && cl.Role != domain.RoleCadre {
		v.Ledger = "/export/ledger.xlsx?" + string(p.Query())
	}
	return c.render(w, rq, http.StatusOK, "overview", "总览", "overview", v)
}

// trend is one count over the period, by month (by week for a period
// shorter than two months).
func (c *Console) trend(rq *request, sc domain.StatsScope, key string, p periodForm) (trendView, error) {
	if !slices.ContainsFunc(metrics, func(m metric) bool { return m.Key == key }) {
		key = "households_visited"
	}
	interval := "month"
	if p.Period.To < addMonths(p.Period.From, 2) {
		interval = "week"
	}
	pts, err := c.svc.Stats.Series(rq.ctx, sc, key, interval, p.Period.From, p.Period.To)
	if err != nil {
		return trendView{}, err
	}
	t := drawTrend(metricOf(key), interval, pts)
	t.Metrics, t.Query = metrics, p.query
	return t, nil
}

// addMonths is the date n months after a YYYY-MM-DD date's month start.
func addMonths(date string, n int) string {
	y, _ := strconv.Atoi(date[:4])
	m, _ := strconv.Atoi(date[5:7])
	m += n
	for m > 12 {
		y, m = y+1, m-12
	}
	return fmt.Sprintf("%04d-%02d-01", y, m)
}

// villageRow is one village of a town's table.
type villageRow struct {
	domain.VillageRow
	Cards []card
}

// townView is a town's page.
type townView struct {
	P        periodForm
	Town     domain.Town
	Cards    []card
	Selected []villageRow // in the round: district level first
	Others   []villageRow
	Columns  []metric
	Map      mapView
	Trend    trendView
	Ledger   string
}

// townPage is a town: its counts and its villages, each selected one with
// its level, team and light.
func (c *Console) townPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	p := readPeriod(r.URL.Query(), c.cfg.Now(), c.cfg.Loc)
	t, err := c.svc.Org.GetTown(rq.ctx, rq.caller, r.PathValue("id"))
	if err != nil {
		return err
	}
	sc, err := c.svc.Stats.ResolveScope(rq.ctx, rq.caller, domain.ScopeTown, t.ID)
	if err != nil {
		return err
	}
	sum, err := c.svc.Stats.Summary(rq.ctx, sc.On(p.Basis), p.Period)
	if err != nil {
		return err
	}
	rows, err := c.svc.Stats.Villages(rq.ctx, rq.caller, t.ID, p.Period, p.Basis)
	if err != nil {
		return err
	}
	v := townView{P: p, Town: t, Cards: cardsOf(sum.Metrics, headline), Columns: pick(columns)}
	var villages []domain.Village
	var lights []domain.SelectedLight
	for _, row := range rows {
		vr := villageRow{VillageRow: row, Cards: cardsOf(row.Metrics, v.Columns)}
		villages = append(villages, row.Village)
		if row.Level != "" {
			v.Selected = append(v.Selected, vr)
			lights = append(lights, domain.SelectedLight{VillageID: row.Village.ID, Level: row.Level, Light: row.Light})
		} else {
			v.Others = append(v.Others, vr)
		}
	}
	slices.SortStableFunc(v.Selected, func(a, b villageRow) int { return cmp.Compare(a.Level, b.Level) })
	v.Map = drawMap(villages, lights, string(p.Query()))
	if v.Trend, err = c.trend(rq, sc.On(p.Basis), r.URL.Query().Get("metric"), p); err != nil {
		return err
	}
	if rq.caller.Role != domain.RoleTeamLeader && rq.caller.Role != domain.RoleCadre {
		v.Ledger = "/export/ledger.xlsx?" + string(p.Query()) + "&townId=" + url.QueryEscape(t.ID)
	}
	return c.render(w, rq, http.StatusOK, "town", t.Name, "overview", v)
}

// villageView is one village's page.
type villageView struct {
	P          periodForm
	Village    domain.Village
	Town       domain.Town
	Cards      []card
	Level      domain.Level
	Light      domain.VillageLight
	Assessment *domain.Assessment
	Indicators map[string]string
	Team       *domain.TeamView
	Problems   []domain.Problem
	Targets    []domain.Target
	Records    []recordRow
	Trend      trendView
}

// villagePage is a village: its counts, light with its reasons and scores,
// team, problems, targets and latest records.
func (c *Console) villagePage(w http.ResponseWriter, r *http.Request, rq *request) error {
	p := readPeriod(r.URL.Query(), c.cfg.Now(), c.cfg.Loc)
	vil, err := c.svc.Org.GetVillage(rq.ctx, rq.caller, r.PathValue("id"))
	if err != nil {
		return err
	}
	town, err := c.svc.Org.GetTown(rq.ctx, domain.System(rq.caller.RequestID), vil.TownID)
	if err != nil {
		return err
	}
	sc, err := c.svc.Stats.ResolveScope(rq.ctx, rq.caller, domain.ScopeVillage, vil.ID)
	if err != nil {
		return err
	}
	sum, err := c.svc.Stats.Summary(rq.ctx, sc.On(p.Basis), p.Period)
	if err != nil {
		return err
	}
	v := villageView{P: p, Village: vil, Town: town, Cards: cardsOf(sum.Metrics, metrics), Indicators: map[string]string{}}
	lights, err := c.svc.Stats.SelectedLights(rq.ctx, rq.caller, vil.TownID, p.Period)
	if err != nil {
		return err
	}
	for _, l := range lights {
		if l.VillageID == vil.ID {
			v.Level, v.Light = l.Level, l.Light
		}
	}
	if v.Light.Period != "" {
		if a, err := c.svc.Assessments.Get(rq.ctx, rq.caller, vil.ID, v.Light.Period); err == nil {
			v.Assessment = &a
		}
	}
	for _, it := range domain.DefaultCatalogues {
		if it.Kind == domain.CatIndicators {
			v.Indicators[it.Code] = it.Name
		}
	}
	teams, err := c.svc.Teams.ListTeams(rq.ctx, rq.caller, domain.TeamFilter{VillageID: vil.ID}, domain.Page{Limit: 10})
	if err != nil {
		return err
	}
	if len(teams.Items) > 0 {
		tv, err := c.svc.Teams.View(rq.ctx, rq.caller, teams.Items[len(teams.Items)-1])
		if err != nil {
			return err
		}
		v.Team = &tv
	}
	probs, err := c.svc.Ledger.ListProblems(rq.ctx, rq.caller, domain.ProblemFilter{VillageID: vil.ID}, domain.Page{Limit: 100})
	if err != nil {
		return err
	}
	v.Problems = probs.Items
	tgs, err := c.svc.Ledger.ListTargets(rq.ctx, rq.caller, domain.TargetFilter{VillageID: vil.ID}, domain.Page{Limit: 100})
	if err != nil {
		return err
	}
	v.Targets = tgs.Items
	recs, err := c.svc.Field.List(rq.ctx, rq.caller, domain.ListQuery{VillageID: vil.ID, Filter: domain.RecordFilter{Type: domain.TypeReport}, Limit: 15})
	if err != nil {
		return err
	}
	for _, rec := range recs {
		v.Records = append(v.Records, describe(rec, c.cfg.Loc))
	}
	if v.Trend, err = c.trend(rq, sc.On(p.Basis), r.URL.Query().Get("metric"), p); err != nil {
		return err
	}
	return c.render(w, rq, http.StatusOK, "village", vil.Name, "overview", v)
}

// ledgerDownload is the ledger workbook of the caller's scope (a town's
// with townId) for the period, as the API's export makes it.
func (c *Console) ledgerDownload(w http.ResponseWriter, r *http.Request, rq *request) error {
	p := readPeriod(r.URL.Query(), c.cfg.Now(), c.cfg.Loc)
	townID := r.URL.Query().Get("townId")
	if townID != "" && !domain.ValidID(townID) {
		return domain.NotFound("town")
	}
	ss, err := c.svc.Exports.Sheets(rq.ctx, rq.caller, townID, p.Period, p.Basis)
	if err != nil {
		return err
	}
	if err := c.svc.Audit.Record(rq.ctx, rq.caller, "export", "ledger.xlsx", "export", townID); err != nil {
		return err
	}
	name := "整顿台账-" + p.Period.From + "-" + p.Period.To + ".xlsx"
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="ledger.xlsx"; filename*=UTF-8''`+url.PathEscape(name))
	w.Header().Set("Cache-Control", "no-store")
	return sheets.WriteXLSX(w, ss)
}
