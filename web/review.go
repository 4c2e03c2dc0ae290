package web

import (
	"cmp"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"zhucun/domain"
)

// recordRow is a field record described for a person.
type recordRow struct {
	ID, Type, Kind, Summary, When string
	Village, Author               string
	Version                       int
	Photos                        []string
	Review                        string
	Comment                       string
}

var kindNames = map[string]string{
	domain.KindVisit: "走访", domain.KindMeeting: "会议", domain.KindLeaderResearch: "包靠领导实地调研", domain.KindUnitResearch: "派出单位调研",
	domain.KindReserveCandidate: "后备人选", domain.KindCheckin: "在岗记录", domain.KindWorkLog: "民情日记",
}

var reviewNames = map[string]string{domain.ReviewSubmitted: "待审核", domain.ReviewApproved: "已通过", domain.ReviewReturned: "已退回"}

// describe says what a record is in a line.
func describe(r domain.Record, loc *time.Location) recordRow {
	row := recordRow{ID: r.ID, Type: string(r.Type), Version: r.Version, When: r.At.In(loc).Format("2006-01-02 15:04"),
		Review: reviewNames[r.ReviewState()], Comment: r.ReviewComment()}
	switch {
	case r.Report != nil:
		p := r.Report
		row.Kind, row.Photos = kindNames[p.Kind], p.PhotoIDs
		switch p.Kind {
		case domain.KindVisit:
			who := map[string]string{"party_member": "党员", "household": "群众"}[p.Visitee]
			row.Summary = fmt.Sprintf("走访%s %d %s。%s", who, p.Count, map[string]string{"party_member": "人", "household": "户"}[p.Visitee], p.Concerns)
		case domain.KindMeeting:
			t := map[string]string{"two_committees": "“两委”班子会议", "party_members": "党员大会", "villager_representatives": "村民代表会议", "other": "其他会议"}[p.MeetingType]
			row.Summary = fmt.Sprintf("%s，%d 人参加。议题：%s", t, p.Attendees, strings.Join(p.Topics, "、"))
		case domain.KindLeaderResearch:
			row.Summary = p.Findings
		case domain.KindUnitResearch:
			row.Summary = fmt.Sprintf("%d 人次。%s", p.People, p.Notes)
		case domain.KindReserveCandidate:
			if p.Candidate != nil {
				row.Summary = "后备人选：" + p.Candidate.Name
			}
		default:
			row.Summary = cmp.Or(p.Text, p.Notes)
		}
	case r.Dispute != nil:
		d := r.Dispute
		row.Kind, row.Photos = "矛盾纠纷", d.PhotoIDs
		st := map[string]string{domain.DisputeIdentified: "已排查", domain.DisputeMediating: "调解中", domain.DisputeResolved: "已化解", domain.DisputeEscalated: "已上报"}[d.Status]
		row.Summary = st + "：" + d.Description
		if d.Status == domain.DisputeResolved {
			row.Summary += "。" + d.Resolution
		}
	case r.Project != nil:
		p := r.Project
		row.Kind, row.Photos = "工程项目", p.PhotoIDs
		row.Summary = fmt.Sprintf("%s（预算 %s 万元）", p.Name, show(metric{Money: true}, p.BudgetFen))
	case r.ProjectUpdate != nil:
		row.Kind, row.Photos = "项目进展", r.ProjectUpdate.PhotoIDs
		row.Summary = r.ProjectUpdate.Note
	case r.Fund != nil:
		row.Kind = "帮扶资金"
		row.Summary = fmt.Sprintf("%s 万元：%s", show(metric{Money: true}, r.Fund.AmountFen), r.Fund.Purpose)
	}
	return row
}

// reviewTypes are the records the queue shows.
var reviewTypes = []domain.RecordType{domain.TypeReport, domain.TypeDispute, domain.TypeProject, domain.TypeProjectUpdate, domain.TypeFund}

// reviewQueue lists the records waiting for review in the caller's
// scope, with their cited photos, newest first.
func (c *Console) reviewQueue(w http.ResponseWriter, r *http.Request, rq *request) error {
	var all []domain.Record
	for _, typ := range reviewTypes {
		recs, err := c.svc.Field.List(rq.ctx, rq.caller, domain.ListQuery{Filter: domain.RecordFilter{Type: typ, Review: domain.ReviewSubmitted}, Limit: 100})
		if err != nil {
			return err
		}
		all = append(all, recs...)
	}
	slices.SortFunc(all, func(a, b domain.Record) int { return cmp.Or(b.At.Compare(a.At), strings.Compare(a.ID, b.ID)) })
	all = all[:min(len(all), 100)]
	var ids []string
	for _, rec := range all {
		ids = append(ids, rec.VillageID)
	}
	names, err := c.villageNames(rq, ids)
	if err != nil {
		return err
	}
	rows := make([]recordRow, 0, len(all))
	for _, rec := range all {
		row := describe(rec, c.cfg.Loc)
		row.Village = names[rec.VillageID]
		if u, err := c.svc.Users.Store.GetUser(rq.ctx, rec.CreatedBy, domain.Scope{All: true}); err == nil {
			row.Author = u.Name
		}
		rows = append(rows, row)
	}
	return c.render(w, rq, http.StatusOK, "reviews", "审核", "reviews", rows)
}

// review approves or returns one record.
func (c *Console) review(w http.ResponseWriter, r *http.Request, rq *request) error {
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	item := domain.ReviewItem{ID: r.PostFormValue("id"), Decision: r.PostFormValue("decision"), Comment: r.PostFormValue("comment"), Version: version}
	res, err := c.svc.Reviews.Review(rq.ctx, rq.caller, []domain.ReviewItem{item})
	if err == nil {
		err = res[0].Err
	}
	if err != nil {
		return err
	}
	if item.Decision == domain.DecisionReturn {
		c.flash(rq, "已退回，并通知填报人修改。")
	} else {
		c.flash(rq, "已审核通过。")
	}
	http.Redirect(w, r, "/reviews", http.StatusSeeOther)
	return nil
}

// photo serves a photo (its thumbnail with ?thumb=1) the caller may see.
func (c *Console) photo(w http.ResponseWriter, r *http.Request, rq *request) error {
	rec, err := c.svc.Photos.Get(rq.ctx, rq.caller, r.PathValue("id"))
	if err != nil {
		return err
	}
	p := rec.Photo
	if p.Status != domain.PhotoReady {
		return domain.NotFound("photo")
	}
	key, ct := p.BlobKey, p.ContentType
	if r.URL.Query().Get("thumb") != "" && p.ThumbKey != "" {
		key, ct = p.ThumbKey, domain.ImageJPEG
	}
	body, err := c.svc.Photos.Blobs.Get(rq.ctx, key)
	if err != nil {
		return err
	}
	defer body.Close()
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "private, max-age=3600")
	_, err = io.Copy(w, body)
	return err
}
