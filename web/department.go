package web

import (
	"cmp"
	"net/http"
	"slices"

	"zhucun/domain"
)

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
	vs, err := c.svc.Org.Store.VillagesByIDs(rq.ctx, ids)
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, v := range vs {
		names[v.ID] = v.Name
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
