package web

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"zhucun/domain"
)

// villageNames names villages by id (those that exist).
func (c *Console) villageNames(rq *request, ids []string) (map[string]string, error) {
	vs, err := c.svc.Org.Store.VillagesByIDs(rq.ctx, ids)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(vs))
	for _, v := range vs {
		names[v.ID] = v.Name
	}
	return names, nil
}

// catalogueNames names the catalogues' codes (manifestations, aspects …)
// by the defaults.
func catalogueNames(kind domain.CatalogueKind) map[string]string {
	out := map[string]string{}
	for _, it := range domain.DefaultCatalogues {
		if it.Kind == kind {
			out[it.Code] = it.Name
		}
	}
	return out
}

// roundRow is one evaluated village of the round.
type roundRow struct {
	domain.RankRow
	Level          domain.Level
	Manifestations []string
}

// roundView is the round: its evaluations ranked, the candidate line and
// the selections.
type roundView struct {
	Campaign   domain.Campaign
	Evaluated  int
	Candidates []roundRow // the worst share, worst first
	Ranking    []roundRow // every evaluated village, best first
	District   int
	Town       int
	LineScore  float64 // the best candidate's score
}

// round shows the latest round (a town admin: its town's villages).
func (c *Console) round(w http.ResponseWriter, r *http.Request, rq *request) error {
	camps, err := domain.AllPages(func(p domain.Page) (domain.List[domain.Campaign], error) {
		return c.svc.Campaigns.List(rq.ctx, rq.caller, p)
	})
	if err != nil {
		return err
	}
	if len(camps) == 0 {
		return c.render(w, rq, http.StatusOK, "round", "整顿轮次", "round", roundView{})
	}
	cp := slices.MaxFunc(camps, func(a, b domain.Campaign) int { return a.CreatedAt.Compare(b.CreatedAt) })
	town := ""
	if rq.caller.Role == domain.RoleTownAdmin {
		town = rq.caller.TownID
	}
	rank, err := c.svc.Campaigns.Rank(rq.ctx, rq.caller, cp.ID, town)
	if err != nil {
		return err
	}
	sels, err := domain.AllPages(func(p domain.Page) (domain.List[domain.Selection], error) {
		return c.svc.Campaigns.ListSelections(rq.ctx, rq.caller, domain.SelectionFilter{CampaignID: cp.ID, TownID: town}, p)
	})
	if err != nil {
		return err
	}
	level := map[string]domain.Level{}
	v := roundView{Campaign: cp, Evaluated: rank.Evaluated}
	for _, s := range sels {
		level[s.VillageID] = s.Level
		if s.Level == domain.LevelDistrict {
			v.District++
		} else {
			v.Town++
		}
	}
	names := catalogueNames(domain.CatManifestations)
	for _, row := range rank.Rows {
		rr := roundRow{RankRow: row, Level: level[row.VillageID]}
		for _, m := range row.Manifestations {
			rr.Manifestations = append(rr.Manifestations, cmp.Or(names[m], m))
		}
		v.Ranking = append(v.Ranking, rr)
		if row.Candidate {
			v.Candidates = append(v.Candidates, rr)
		}
	}
	slices.Reverse(v.Candidates)
	if n := len(v.Candidates); n > 0 {
		v.LineScore = v.Candidates[n-1].Score
	}
	return c.render(w, rq, http.StatusOK, "round", "整顿轮次", "round", v)
}

// teamRow is one team with what it has and lacks.
type teamRow struct {
	View    domain.TeamView
	Village string
	Leader  string
}

// teams lists the teams in scope with their age mix and the unit types
// their villages' problems call for but no member's unit is.
func (c *Console) teams(w http.ResponseWriter, r *http.Request, rq *request) error {
	ts, err := domain.AllPages(func(p domain.Page) (domain.List[domain.Team], error) {
		return c.svc.Teams.ListTeams(rq.ctx, rq.caller, domain.TeamFilter{}, p)
	})
	if err != nil {
		return err
	}
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.VillageID
	}
	names, err := c.villageNames(rq, ids)
	if err != nil {
		return err
	}
	rows := make([]teamRow, 0, len(ts))
	for _, t := range ts {
		tv, err := c.svc.Teams.View(rq.ctx, rq.caller, t)
		if err != nil {
			return err
		}
		row := teamRow{View: tv, Village: names[t.VillageID]}
		for _, m := range tv.Members {
			if m.Role == "leader" {
				row.Leader = m.Name
			}
		}
		rows = append(rows, row)
	}
	slices.SortStableFunc(rows, func(a, b teamRow) int { return cmp.Compare(a.View.Level, b.View.Level) })
	return c.render(w, rq, http.StatusOK, "teams", "工作组", "teams", rows)
}

// approvalRow is one period's approval, named.
type approvalRow struct {
	domain.Approval
	Scope   string // the village's or the town's name
	Approve bool   // the caller may approve or return it now
}

var approvalStates = map[string]string{domain.ApprovalOpen: "未提交", domain.ApprovalSubmitted: "待审批", domain.ApprovalApproved: "已审批（锁定）",
	domain.ApprovalReturned: "已退回", domain.ApprovalUnlocked: "已解锁"}

// approvals lists the period approvals in scope, those waiting first, and
// lets whoever approves them approve or return them.
func (c *Console) approvals(w http.ResponseWriter, r *http.Request, rq *request) error {
	list, err := domain.AllPages(func(p domain.Page) (domain.List[domain.Approval], error) {
		return c.svc.Approvals.List(rq.ctx, rq.caller, domain.ApprovalFilter{State: r.URL.Query().Get("state")}, p)
	})
	if err != nil {
		return err
	}
	names, err := c.scopeNames(rq, list)
	if err != nil {
		return err
	}
	rows := make([]approvalRow, 0, len(list))
	for _, a := range list {
		may := a.State == domain.ApprovalSubmitted && (rq.caller.Role == domain.RoleAdmin ||
			rq.caller.Role == domain.RoleTownAdmin && a.Level == domain.ApprovalVillage && a.TownID == rq.caller.TownID)
		rows = append(rows, approvalRow{Approval: a, Scope: names[a.ScopeID], Approve: may})
	}
	slices.SortStableFunc(rows, func(a, b approvalRow) int {
		return cmp.Or(-cmp.Compare(btoi(a.Approve), btoi(b.Approve)), -strings.Compare(a.Period, b.Period), strings.Compare(a.Scope, b.Scope))
	})
	return c.render(w, rq, http.StatusOK, "approvals", "数据审批", "approvals", map[string]any{"Rows": rows, "States": approvalStates})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// scopeNames names the villages and towns of approvals.
func (c *Console) scopeNames(rq *request, list []domain.Approval) (map[string]string, error) {
	var vids []string
	for _, a := range list {
		if a.Level == domain.ApprovalVillage {
			vids = append(vids, a.ScopeID)
		}
	}
	names, err := c.villageNames(rq, vids)
	if err != nil {
		return nil, err
	}
	towns, err := domain.AllPages(func(p domain.Page) (domain.List[domain.Town], error) {
		return c.svc.Org.ListTowns(rq.ctx, domain.System(rq.caller.RequestID), domain.TownFilter{}, p)
	})
	if err != nil {
		return nil, err
	}
	for _, t := range towns {
		names[t.ID] = t.Name
	}
	return names, nil
}

// act approves or returns a period.
func (c *Console) act(w http.ResponseWriter, r *http.Request, rq *request) error {
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	action := r.PostFormValue("action")
	if action != domain.ActApprove && action != domain.ActReturn {
		return domain.NotFound("action")
	}
	if _, _, err := c.svc.Approvals.Act(rq.ctx, rq.caller, r.PostFormValue("level"), r.PostFormValue("scope"), r.PostFormValue("period"),
		action, r.PostFormValue("comment"), version); err != nil {
		return err
	}
	c.flash(rq, map[string]string{domain.ActApprove: "已审批，该时段的记录已锁定。", domain.ActReturn: "已退回。"}[action])
	http.Redirect(w, r, "/approvals", http.StatusSeeOther)
	return nil
}

// fieldChecks lists the unannounced field checks (四不两直) in scope.
func (c *Console) fieldChecks(w http.ResponseWriter, r *http.Request, rq *request) error {
	list, err := domain.AllPages(func(p domain.Page) (domain.List[domain.FieldCheck], error) {
		return c.svc.FieldChecks.List(rq.ctx, rq.caller, domain.FieldCheckFilter{Quarter: r.URL.Query().Get("quarter")}, p)
	})
	if err != nil {
		return err
	}
	ids := make([]string, len(list))
	for i, fc := range list {
		ids[i] = fc.VillageID
	}
	names, err := c.villageNames(rq, ids)
	if err != nil {
		return err
	}
	slices.SortStableFunc(list, func(a, b domain.FieldCheck) int { return strings.Compare(b.Date, a.Date) })
	return c.render(w, rq, http.StatusOK, "fieldchecks", "实地督查", "fieldchecks", map[string]any{"Checks": list, "Names": names})
}

// assessmentRow is a village's half-year assessment.
type assessmentRow struct {
	Village    domain.Village
	Level      domain.Level
	Light      domain.VillageLight
	Assessment *domain.Assessment
}

// assessments lists the round's villages with their half-year's
// assessment and light (?half=2026S1; the latest half-year by default).
func (c *Console) assessments(w http.ResponseWriter, r *http.Request, rq *request) error {
	half := r.URL.Query().Get("half")
	p, err := domain.ParsePeriod(half)
	if err != nil || !strings.Contains(half, "S") {
		// The latest half-year that is over.
		now := c.cfg.Now().In(c.cfg.Loc)
		if now.Month() <= 6 {
			half = fmt.Sprintf("%dS2", now.Year()-1)
		} else {
			half = fmt.Sprintf("%dS1", now.Year())
		}
		p, _ = domain.ParsePeriod(half)
	}
	lights, err := c.svc.Stats.SelectedLights(rq.ctx, rq.caller, "", p)
	if err != nil {
		return err
	}
	ids := make([]string, len(lights))
	for i, l := range lights {
		ids[i] = l.VillageID
	}
	vs, err := c.svc.Org.Store.VillagesByIDs(rq.ctx, ids)
	if err != nil {
		return err
	}
	byID := map[string]domain.Village{}
	for _, v := range vs {
		byID[v.ID] = v
	}
	rows := make([]assessmentRow, 0, len(lights))
	count := map[string]int{}
	for _, l := range lights {
		row := assessmentRow{Village: byID[l.VillageID], Level: l.Level, Light: l.Light}
		if a, err := c.svc.Assessments.Get(rq.ctx, rq.caller, l.VillageID, half); err == nil {
			row.Assessment = &a
			count[a.Light]++
		}
		rows = append(rows, row)
	}
	slices.SortStableFunc(rows, func(a, b assessmentRow) int {
		return cmp.Or(cmp.Compare(a.Level, b.Level), cmp.Compare(total(b), total(a)))
	})
	return c.render(w, rq, http.StatusOK, "assessments", "半年评估", "assessments", map[string]any{"Half": half, "Rows": rows, "Count": count})
}

func total(r assessmentRow) float64 {
	if r.Assessment == nil {
		return -1
	}
	return r.Assessment.Total
}

// accountRow is an account as the console lists it: the phone masked.
type accountRow struct {
	domain.User
	PhoneShown string
}

// accounts lists the accounts in scope (?role=, ?name=, ?after= for the
// next page); phones are masked but one's own (PIPL).
func (c *Console) accounts(w http.ResponseWriter, r *http.Request, rq *request) error {
	q := r.URL.Query()
	f := domain.UserFilter{Role: domain.Role(q.Get("role")), NameContains: strings.TrimSpace(q.Get("name"))}
	l, err := c.svc.Users.List(rq.ctx, rq.caller, f, domain.Page{Limit: 100, After: q.Get("after")})
	if err != nil {
		return err
	}
	rows := make([]accountRow, 0, len(l.Items))
	for _, u := range l.Items {
		shown := domain.MaskPhone(u.Phone)
		if u.ID == rq.caller.UserID {
			shown = u.Phone
		}
		rows = append(rows, accountRow{User: u, PhoneShown: shown})
	}
	next := ""
	if l.Next != "" {
		v := url.Values{"role": {q.Get("role")}, "name": {q.Get("name")}, "after": {l.Next}}
		next = "/accounts?" + v.Encode()
	}
	return c.render(w, rq, http.StatusOK, "accounts", "账号", "accounts", map[string]any{"Rows": rows, "Next": next, "Role": q.Get("role"),
		"Name": q.Get("name"), "Roles": domain.CampaignRoles})
}
