package domain

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// FieldService keeps the records cadres file from the village: reports,
// disputes, projects (with their updates) and funds. Creates carry the
// client's id and are idempotent; edits carry the version they change.
type FieldService struct {
	Records RecordStore
	Org     OrgStore
	Users   UserStore
	Teams   TeamStore // units
	Audit   Auditor
	// Photos, when set, refuses photo ids of another village's photos.
	Photos PhotoIndex
	Now    Clock
	// MaxSkew is how far in the future an event time may be (phone clocks drift).
	MaxSkew time.Duration
	// Backfill is how far in the past an event may be filed.
	Backfill time.Duration
	// Loc is the campaign's time zone, whose calendar dates (a fund's
	// receivedOn, a project update's date) are in; nil means UTC.
	Loc *time.Location
	// Locks, when set, refuses writes into approved periods.
	Locks PeriodLocks
	// OnPostDistance is how near the village (metres) a record's position,
	// or one of its photos', puts its author on post (onpost.go).
	OnPostDistance float64
	// Notes, when set, hears that a returned record was edited (its
	// reminder is dealt with).
	Notes Notifier
}

// Field limits.
const (
	maxText   = 4000
	maxShort  = 200
	maxList   = 50
	maxPhotos = 30
	// MaxFen bounds money amounts: 10 billion yuan.
	MaxFen = 1_000_000_000_000
)

type fieldCheck struct {
	v   *Validator
	now time.Time
	svc FieldService
}

func (f fieldCheck) text(field, s string, n int, required bool) {
	if required && strings.TrimSpace(s) == "" {
		f.v.Add(field, FieldRequired, field+" is required")
		return
	}
	f.v.MaxLen(field, s, n)
}

func (f fieldCheck) list(field string, l []string, n, each int) {
	if len(l) > n {
		f.v.Add(field, FieldRange, fmt.Sprintf("%s may hold at most %d items", field, n))
		return
	}
	for i, s := range l {
		if strings.TrimSpace(s) == "" {
			f.v.Add(fmt.Sprintf("%s[%d]", field, i), FieldRequired, "empty item")
		} else {
			f.v.MaxLen(fmt.Sprintf("%s[%d]", field, i), s, each)
		}
	}
}

// eventTime checks a time is not in the future beyond the skew nor older
// than the backfill window.
func (f fieldCheck) eventTime(field string, t time.Time, required bool) {
	switch {
	case t.IsZero():
		if required {
			f.v.Add(field, FieldRequired, field+" is required")
		}
	case t.After(f.now.Add(f.svc.MaxSkew)):
		f.v.Add(field, FieldRange, field+" is in the future")
	case f.svc.Backfill > 0 && t.Before(f.now.Add(-f.svc.Backfill)):
		f.v.Add(field, FieldRange, fmt.Sprintf("%s is older than the backfill window (%d days)", field, int(f.svc.Backfill.Hours()/24)))
	}
}

func (f fieldCheck) photos(ids []string) {
	if len(ids) > maxPhotos {
		f.v.Add("photoIds", FieldRange, fmt.Sprintf("at most %d photos", maxPhotos))
		return
	}
	for i, id := range ids {
		if !ValidID(id) {
			f.v.Add(fmt.Sprintf("photoIds[%d]", i), FieldInvalid, "a photo id is a UUID")
		}
	}
}

func (f fieldCheck) fen(field string, n int64) {
	if n < 0 || n > MaxFen {
		f.v.Add(field, FieldRange, field+" must be from 0 to 1000000000000 fen")
	}
}

func (f fieldCheck) oneOf(field, s string, allowed []string, required bool) {
	if s == "" && !required {
		return
	}
	if !slices.Contains(allowed, s) {
		f.v.Add(field, FieldInvalid, field+" must be one of "+strings.Join(allowed, ", "))
	}
}

func (f fieldCheck) location(l *Location) {
	if l == nil {
		return
	}
	if math.IsNaN(l.Lat) || l.Lat < -90 || l.Lat > 90 {
		f.v.Add("location.lat", FieldRange, "lat must be from -90 to 90")
	}
	if math.IsNaN(l.Lng) || l.Lng < -180 || l.Lng > 180 {
		f.v.Add("location.lng", FieldRange, "lng must be from -180 to 180")
	}
	if math.IsNaN(l.Accuracy) || l.Accuracy < 0 || l.Accuracy > 100000 {
		f.v.Add("location.accuracy", FieldRange, "accuracy must be from 0 to 100000 metres")
	}
}

// kindFields names the report fields each kind may carry.
var kindFields = map[string][]string{
	KindVisit:            {"visitee", "count", "names", "concerns", "followUp"},
	KindMeeting:          {"meetingType", "attendees", "attendeeNames", "topics", "decisions"},
	KindLeaderResearch:   {"leaderId", "findings"},
	KindUnitResearch:     {"unitId", "people"},
	KindReserveCandidate: {"candidate"},
	KindCheckin:          {},
	KindWorkLog:          {"text"},
}

// setFields lists which kind-specific fields a report sets.
func setFields(p *Report) []string {
	var out []string
	add := func(name string, set bool) {
		if set {
			out = append(out, name)
		}
	}
	add("visitee", p.Visitee != "")
	add("count", p.Count != 0)
	add("names", len(p.Names) > 0)
	add("concerns", p.Concerns != "")
	add("followUp", p.FollowUp)
	add("meetingType", p.MeetingType != "")
	add("attendees", p.Attendees != 0)
	add("attendeeNames", len(p.AttendeeNames) > 0)
	add("topics", len(p.Topics) > 0)
	add("decisions", len(p.Decisions) > 0)
	add("leaderId", p.LeaderID != "")
	add("findings", p.Findings != "")
	add("unitId", p.UnitID != "")
	add("people", p.People != 0)
	add("candidate", p.Candidate != nil)
	add("text", p.Text != "")
	return out
}

func (s FieldService) checkReport(ctx context.Context, c Caller, f fieldCheck, p *Report) error {
	if !slices.Contains(ReportKinds, p.Kind) {
		f.v.Add("kind", FieldInvalid, "kind must be one of "+strings.Join(ReportKinds, ", "))
		return nil
	}
	for _, name := range setFields(p) {
		if !slices.Contains(kindFields[p.Kind], name) {
			f.v.Add(name, FieldInvalid, fmt.Sprintf("%s is not a field of a %s report", name, p.Kind))
		}
	}
	f.eventTime("occurredAt", p.OccurredAt, true)
	f.location(p.Location)
	f.text("notes", p.Notes, maxText, false)
	f.photos(p.PhotoIDs)
	switch p.Kind {
	case KindVisit:
		f.oneOf("visitee", p.Visitee, []string{"party_member", "household"}, true)
		if p.Count == 0 {
			p.Count = 1
		}
		if p.Count < 1 || p.Count > 10000 {
			f.v.Add("count", FieldRange, "count must be from 1 to 10000")
		}
		f.list("names", p.Names, 500, 50)
		f.text("concerns", p.Concerns, maxText, false)
	case KindMeeting:
		f.oneOf("meetingType", p.MeetingType, []string{"two_committees", "party_members", "villager_representatives", "other"}, true)
		if p.Attendees < 0 || p.Attendees > 10000 {
			f.v.Add("attendees", FieldRange, "attendees must be from 0 to 10000")
		}
		f.list("attendeeNames", p.AttendeeNames, 500, 50)
		f.list("topics", p.Topics, maxList, maxShort)
		f.list("decisions", p.Decisions, maxList, maxText)
	case KindLeaderResearch:
		if p.LeaderID == "" {
			p.LeaderID = c.UserID
		} else if _, err := s.Users.GetUser(ctx, p.LeaderID, Scope{All: true}); errors.Is(err, ErrNotFound) {
			f.v.Add("leaderId", FieldUnknown, "no such account")
		} else if err != nil {
			return err
		}
		f.text("findings", p.Findings, maxText, false)
	case KindUnitResearch:
		if f.v.Required("unitId", p.UnitID) {
			if _, err := s.Teams.GetUnit(ctx, p.UnitID); errors.Is(err, ErrNotFound) {
				f.v.Add("unitId", FieldUnknown, "no such unit")
			} else if err != nil {
				return err
			}
		}
		if p.People < 1 || p.People > 10000 {
			f.v.Add("people", FieldRange, "people must be from 1 to 10000")
		}
	case KindReserveCandidate:
		if p.Candidate == nil {
			f.v.Add("candidate", FieldRequired, "candidate is required")
			break
		}
		cd := p.Candidate
		f.text("candidate.name", cd.Name, 50, true)
		if y := f.now.Year(); cd.BirthYear != 0 && (cd.BirthYear < y-80 || cd.BirthYear > y-16) {
			f.v.Add("candidate.birthYear", FieldRange, fmt.Sprintf("birthYear must be from %d to %d", y-80, y-16))
		}
		f.oneOf("candidate.gender", cd.Gender, []string{"male", "female"}, false)
		f.text("candidate.education", cd.Education, 50, false)
		f.oneOf("candidate.stage", cd.Stage, []string{"identified", "training", "observing", "appointed"}, false)
	case KindCheckin:
		if p.Location == nil {
			f.v.Add("location", FieldRequired, "a checkin needs the phone's location")
		}
	case KindWorkLog:
		f.text("text", p.Text, 20000, true)
	}
	return nil
}

func (s FieldService) checkDispute(f fieldCheck, d *Dispute) {
	f.eventTime("identifiedAt", d.IdentifiedAt, true)
	f.oneOf("category", d.Category, DisputeCategories, true)
	f.list("parties", d.Parties, maxList, maxShort)
	f.text("description", d.Description, maxText, true)
	f.text("source", d.Source, maxShort, false)
	f.photos(d.PhotoIDs)
	if d.Status == "" {
		d.Status = DisputeIdentified
	}
	f.oneOf("status", d.Status, []string{DisputeIdentified, DisputeMediating, DisputeResolved, DisputeEscalated}, true)
	f.fen("lossesRecoveredFen", d.LossesRecoveredFen)
	switch d.Status {
	case DisputeResolved:
		if d.ResolvedAt == nil {
			f.v.Add("resolvedAt", FieldRequired, "a resolved dispute needs resolvedAt")
		} else {
			f.eventTime("resolvedAt", *d.ResolvedAt, true)
			if d.ResolvedAt.Before(d.IdentifiedAt) {
				f.v.Add("resolvedAt", FieldRange, "resolvedAt is before identifiedAt")
			}
		}
		f.text("resolution", d.Resolution, maxText, true)
	case DisputeEscalated:
		f.text("escalatedTo", d.EscalatedTo, maxShort, true)
		if d.EscalatedAt == nil {
			f.v.Add("escalatedAt", FieldRequired, "an escalated dispute needs escalatedAt")
		} else {
			f.eventTime("escalatedAt", *d.EscalatedAt, true)
		}
	}
	if d.Status != DisputeResolved && (d.ResolvedAt != nil || d.Resolution != "" || d.LossesRecoveredFen != 0) {
		f.v.Add("status", FieldInvalid, "only a resolved dispute has a resolution")
	}
	if d.Status != DisputeEscalated && (d.EscalatedAt != nil || d.EscalatedTo != "") {
		f.v.Add("status", FieldInvalid, "only an escalated dispute names where it went")
	}
}

func (s FieldService) checkProject(f fieldCheck, p *Project) {
	f.text("name", p.Name, maxShort, true)
	f.oneOf("type", p.ProjectType, ProjectTypes, true)
	f.fen("budgetFen", p.BudgetFen)
	if p.Stage == "" {
		p.Stage = StagePlanned
	}
	f.oneOf("stage", p.Stage, []string{StagePlanned, StageInProgress, StageCompleted}, true)
	checkDate(f.v, "startedOn", p.StartedOn, false)
	checkDate(f.v, "completedOn", p.CompletedOn, p.Stage == StageCompleted)
	f.text("description", p.Description, maxText, false)
	f.photos(p.PhotoIDs)
}

func (s FieldService) checkFund(ctx context.Context, f fieldCheck, r *Record) error {
	p := r.Fund
	if p.AmountFen <= 0 || p.AmountFen > MaxFen {
		f.v.Add("amountFen", FieldRange, "amountFen must be from 1 to 1000000000000 fen")
	}
	if p.SourceUnitID == "" && strings.TrimSpace(p.Source) == "" {
		f.v.Add("sourceUnitId", FieldRequired, "name the source: sourceUnitId or source")
	}
	if p.SourceUnitID != "" {
		if _, err := s.Teams.GetUnit(ctx, p.SourceUnitID); errors.Is(err, ErrNotFound) {
			f.v.Add("sourceUnitId", FieldUnknown, "no such unit")
		} else if err != nil {
			return err
		}
	}
	f.text("source", p.Source, maxShort, false)
	f.text("purpose", p.Purpose, maxText, true)
	checkDate(f.v, "receivedOn", p.ReceivedOn, true)
	if ValidDate(p.ReceivedOn) && p.ReceivedOn > Today(f.now.Add(s.MaxSkew), zoneOr(s.Loc)) {
		f.v.Add("receivedOn", FieldRange, "receivedOn is in the future")
	}
	if p.ProjectID != "" {
		pr, err := s.Records.GetRecord(ctx, p.ProjectID)
		if errors.Is(err, ErrNotFound) || err == nil && (pr.Type != TypeProject || pr.Deleted || pr.VillageID != r.VillageID) {
			f.v.Add("projectId", FieldUnknown, "no such project in this village")
		} else if err != nil {
			return err
		}
	}
	return nil
}

// check validates a record's content and sets its event time and whether
// it puts its author on post.
func (s FieldService) check(ctx context.Context, c Caller, r *Record, vil Village) error {
	var v Validator
	f := fieldCheck{v: &v, now: s.Now(), svc: s}
	var err error
	switch r.Type {
	case TypeReport:
		if r.Report == nil {
			return (&Validator{fields: []FieldError{{Field: "kind", Code: FieldRequired, Message: "kind is required"}}}).Err()
		}
		err = s.checkReport(ctx, c, f, r.Report)
		r.At = r.Report.OccurredAt
	case TypeDispute:
		s.checkDispute(f, r.Dispute)
		r.At = r.Dispute.IdentifiedAt
	case TypeProject:
		s.checkProject(f, r.Project)
		r.At = r.CreatedAt
		if t, perr := time.Parse(DateLayout, r.Project.StartedOn); perr == nil {
			r.At = t
		}
	case TypeFund:
		err = s.checkFund(ctx, f, r)
		if t, perr := time.Parse(DateLayout, r.Fund.ReceivedOn); perr == nil {
			r.At = t
		}
	case TypeProjectUpdate:
		u := r.ProjectUpdate
		checkDate(&v, "date", u.Date, true)
		if ValidDate(u.Date) && u.Date > Today(f.now.Add(s.MaxSkew), zoneOr(s.Loc)) {
			v.Add("date", FieldRange, "date is in the future")
		}
		f.text("note", u.Note, maxText, true)
		f.oneOf("stage", u.Stage, []string{StagePlanned, StageInProgress, StageCompleted}, false)
		f.photos(u.PhotoIDs)
		if t, perr := time.Parse(DateLayout, u.Date); perr == nil {
			r.At = t
		}
	default:
		v.Add("type", FieldInvalid, "type must be report, dispute, project or fund")
	}
	if err != nil {
		return err
	}
	var photos map[string]PhotoBrief
	if v.OK() {
		if photos, err = CheckPhotoRefs(ctx, s.Photos, s.Records, &v, "photoIds", r.VillageID, r.photoIDs()); err != nil {
			return err
		}
	}
	r.OnPost = OnPost(vil, *r, photos, s.OnPostDistance)
	if r.OnPost {
		on, err := s.authorOnPost(ctx, c, r.CreatedBy)
		if err != nil {
			return err
		}
		r.OnPost = on
	}
	return v.Err()
}

// authorOnPost reports whether a record's author is one whose days on
// post are counted: a cadre or team leader (not an admin filing for a village).
func (s FieldService) authorOnPost(ctx context.Context, c Caller, authorID string) (bool, error) {
	if authorID == c.UserID {
		return c.Role.VillageLevel(), nil
	}
	if s.Users == nil {
		return false, nil
	}
	u, err := s.Users.GetUser(ctx, authorID, Scope{All: true})
	if errors.Is(err, ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("record author: %w", err)
	}
	return u.Role.VillageLevel(), nil
}

// photoIDs are the photos a record cites.
func (r Record) photoIDs() []string {
	switch {
	case r.Report != nil:
		return r.Report.PhotoIDs
	case r.Dispute != nil:
		return r.Dispute.PhotoIDs
	case r.Project != nil:
		return r.Project.PhotoIDs
	case r.ProjectUpdate != nil:
		return r.ProjectUpdate.PhotoIDs
	}
	return nil
}

// village returns a village the caller may file records for.
func (s FieldService) village(ctx context.Context, c Caller, v *Validator, id string) (Village, bool, error) {
	if !v.Required("villageId", id) {
		return Village{}, false, nil
	}
	vil, err := s.Org.GetVillage(ctx, id, c.VillageScope())
	if errors.Is(err, ErrNotFound) {
		return Village{}, false, NotFound("village")
	} else if err != nil {
		return Village{}, false, err
	}
	if !canWriteVillage(c, vil.ID, vil.TownID) {
		return Village{}, false, Forbidden()
	}
	return vil, true, nil
}

// Create stores a new record. A resend of the same record (same id and
// content) returns the stored one with duplicate true and creates nothing;
// the same id with other content is 409 id_conflict.
func (s FieldService) Create(ctx context.Context, c Caller, r Record) (Record, bool, error) {
	var v Validator
	if !ValidID(r.ID) {
		v.Add("id", FieldInvalid, "id must be a lower-case UUID the client generates")
	}
	vil, ok, err := s.village(ctx, c, &v, r.VillageID)
	if err != nil {
		return Record{}, false, err
	}
	if err := v.Err(); err != nil || !ok {
		return Record{}, false, err
	}
	now := s.Now()
	r.TownID, r.CreatedBy, r.CreatedAt, r.UpdatedAt, r.Version, r.Deleted = vil.TownID, c.UserID, now, now, 1, false
	r.Review, r.ReviewHistory = ReviewSubmitted, nil
	if err := s.check(ctx, c, &r, vil); err != nil {
		return Record{}, false, err
	}
	r.Hash = r.Fingerprint()
	r.CreateHash = r.Hash
	delta := StatDelta(nil, r, s.Loc)
	if err := checkLocks(ctx, s.Locks, r, []string{eventDay(r, s.Loc)}, delta); err != nil {
		// A resend of a record stored before the lock is still a resend.
		if stored, gerr := s.Records.GetRecord(ctx, r.ID); gerr == nil && r.SameCreate(stored) {
			return stored, true, nil
		}
		return Record{}, false, err
	}
	entry := s.Audit.Entry(c, string(r.Type), r.ID, "create", r.TownID)
	stored, err := s.Records.CreateRecord(ctx, RecordWrite{Record: r, Audit: &entry, Delta: delta})
	if errors.Is(err, ErrDuplicate) {
		if r.SameCreate(stored) {
			return stored, true, nil
		}
		return Record{}, false, idConflict()
	} else if err != nil {
		return Record{}, false, fmt.Errorf("create %s: %w", r.Type, err)
	}
	return stored, false, nil
}

// Get returns a record of a type in the caller's scope; tombstones are 404.
func (s FieldService) Get(ctx context.Context, c Caller, typ RecordType, id string) (Record, error) {
	r, err := s.get(ctx, c, typ, id)
	if err == nil && r.Deleted {
		return Record{}, NotFound(string(typ))
	}
	return r, err
}

func (s FieldService) get(ctx context.Context, c Caller, typ RecordType, id string) (Record, error) {
	if !ValidID(id) {
		return Record{}, NotFound(string(typ))
	}
	r, err := s.Records.GetRecord(ctx, id)
	if errors.Is(err, ErrNotFound) || err == nil && (r.Type != typ || !c.CanSeeVillage(r.VillageID, r.TownID)) {
		return Record{}, NotFound(string(typ))
	}
	return r, err
}

// Update changes a record with apply, which gets the stored record and
// returns the new content. version, when not zero, must be the stored one.
// key identifies the edit as the client sent it: an edit whose key was
// applied already (a resend, even after later edits) answers with the
// stored record and unchanged true, and so does an edit that changes nothing.
func (s FieldService) Update(ctx context.Context, c Caller, typ RecordType, id string, version int, key string, apply func(Record) (Record, error)) (Record, bool, error) {
	stored, err := s.get(ctx, c, typ, id)
	if err != nil {
		return Record{}, false, err
	}
	if key != "" && slices.Contains(stored.Applied, key) && canWriteVillage(c, stored.VillageID, stored.TownID) {
		return stored, true, nil
	}
	if stored.Deleted {
		return Record{}, false, &Error{Kind: KindConflict, Code: "deleted", Message: "the record was deleted"}
	}
	if !canWriteVillage(c, stored.VillageID, stored.TownID) {
		return Record{}, false, Forbidden()
	}
	next, err := apply(stored)
	if err != nil {
		return Record{}, false, err
	}
	// The envelope is the server's.
	next.ID, next.Type, next.VillageID, next.TownID = stored.ID, stored.Type, stored.VillageID, stored.TownID
	next.CreatedBy, next.CreatedAt, next.Deleted = stored.CreatedBy, stored.CreatedAt, false
	next.CreateHash = stored.CreateHash
	if typ == TypeDispute && next.Dispute != nil && next.Dispute.Status != "" {
		if err := disputeTransition(stored.Dispute.Status, next.Dispute.Status); err != nil {
			return Record{}, false, err
		}
	}
	vil, err := s.Org.GetVillage(ctx, stored.VillageID, Scope{All: true})
	if err != nil {
		return Record{}, false, fmt.Errorf("update %s: %w", typ, err)
	}
	if err := s.check(ctx, c, &next, vil); err != nil {
		return Record{}, false, err
	}
	next.Hash = next.Fingerprint()
	if next.Hash == stored.Hash {
		return stored, true, nil // nothing to change: a resend, or an empty edit
	}

	if version != 0 && version != stored.Version {
		return Record{}, false, staleErr()
	}
	now := s.Now()
	next.Version, next.UpdatedAt = stored.Version+1, now
	resubmit(stored, &next, c, now)
	if key != "" {
		next.Applied = append(slices.Clone(stored.Applied), key)
		next.Applied = next.Applied[max(0, len(next.Applied)-maxApplied):]
	}
	delta := StatDelta(&stored, next, s.Loc)
	var days []string
	if !spansMonths(typ) {
		days = []string{eventDay(stored, s.Loc), eventDay(next, s.Loc)}
	}
	if err := checkLocks(ctx, s.Locks, stored, days, delta); err != nil {
		return Record{}, false, err
	}
	entry := s.Audit.Entry(c, string(typ), id, "update", stored.TownID)
	saved, err := s.Records.ReplaceRecord(ctx, RecordWrite{Record: next, Audit: &entry, Delta: delta})
	if errors.Is(err, ErrStale) {
		return Record{}, false, staleErr()
	} else if err != nil {
		return Record{}, false, fmt.Errorf("update %s: %w", typ, err)
	}
	if stored.ReviewState() == ReviewReturned {
		settled(ctx, s.Notes, RuleRecordReturned, id)
	}
	return saved, false, nil
}

// Delete leaves a tombstone that sync clients receive. Deleting twice is
// fine (already is true the second time); version, when not zero, must be
// the stored one.
func (s FieldService) Delete(ctx context.Context, c Caller, typ RecordType, id string, version int) (already bool, err error) {
	stored, err := s.get(ctx, c, typ, id)
	if err != nil {
		return false, err
	}
	if !canWriteVillage(c, stored.VillageID, stored.TownID) {
		return false, Forbidden()
	}
	if stored.Deleted {
		return true, nil
	}
	if version != 0 && version != stored.Version {
		return false, staleErr()
	}
	tomb := stored
	tomb.Deleted, tomb.Version, tomb.UpdatedAt = true, stored.Version+1, s.Now()
	delta := StatDelta(&stored, tomb, s.Loc)
	if err := checkLocks(ctx, s.Locks, stored, []string{eventDay(stored, s.Loc)}, delta); err != nil {
		return false, err
	}
	entry := s.Audit.Entry(c, string(typ), id, "delete", stored.TownID)
	if _, err := s.Records.ReplaceRecord(ctx, RecordWrite{Record: tomb, Audit: &entry, Delta: delta}); errors.Is(err, ErrStale) {
		return false, staleErr()
	} else if err != nil {
		return false, fmt.Errorf("delete %s: %w", typ, err)
	}
	return false, nil
}

// scopeVillages lists the ids of the villages in the caller's scope,
// narrowed to one village or town when asked.
func (s FieldService) scopeVillages(ctx context.Context, c Caller, villageID, townID string) ([]string, error) {
	if villageID != "" {
		v, err := visibleVillage(ctx, s.Org, c, villageID)
		if err != nil {
			return nil, err
		}
		if townID != "" && v.TownID != townID {
			return nil, nil
		}
		return []string{v.ID}, nil
	}
	sc := c.VillageScope()
	if sc.Empty() {
		return nil, nil
	}
	var ids []string
	for p := (Page{Limit: MaxPageLimit}); ; {
		l, err := s.Org.ListVillages(ctx, VillageFilter{Scope: sc, TownID: townID}, p)
		if err != nil {
			return nil, err
		}
		for _, v := range l.Items {
			ids = append(ids, v.ID)
		}
		if l.Next == "" {
			return ids, nil
		}
		p.After = l.Next
	}
}

// ListQuery asks for a page of records.
type ListQuery struct {
	Filter    RecordFilter
	VillageID string
	TownID    string
	After     *RecordCursor
	Limit     int
}

// List lists live records of a type in the caller's scope, newest event first.
func (s FieldService) List(ctx context.Context, c Caller, q ListQuery) ([]Record, error) {
	ids, err := s.scopeVillages(ctx, c, q.VillageID, q.TownID)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	q.Filter.VillageIDs = ids
	if q.Limit <= 0 || q.Limit > MaxPageLimit {
		q.Limit = DefaultPageLimit
	}
	return s.Records.ListRecords(ctx, q.Filter, q.After, q.Limit)
}

// Changes returns the records of the caller's scope changed after the
// cursor, in the order they changed, tombstones included, and the next cursor.
func (s FieldService) Changes(ctx context.Context, c Caller, after int64, limit int) ([]Record, int64, error) {
	ids, err := s.scopeVillages(ctx, c, "", "")
	if err != nil {
		return nil, after, err
	}
	if limit <= 0 || limit > MaxPageLimit {
		limit = DefaultPageLimit
	}
	if len(ids) == 0 {
		return nil, after, nil
	}
	return s.Records.Changes(ctx, ids, after, limit)
}

// disputeMoves lists the statuses a dispute may move to from each status:
// identified → mediating → resolved or escalated; an escalated dispute may
// come back to mediation or be resolved; a resolved one stays resolved.
var disputeMoves = map[string][]string{
	DisputeIdentified: {DisputeIdentified, DisputeMediating, DisputeResolved, DisputeEscalated},
	DisputeMediating:  {DisputeMediating, DisputeResolved, DisputeEscalated},
	DisputeEscalated:  {DisputeEscalated, DisputeMediating, DisputeResolved},
	DisputeResolved:   {DisputeResolved},
}

func disputeTransition(from, to string) error {
	if slices.Contains(disputeMoves[from], to) {
		return nil
	}
	return &Error{Kind: KindConflict, Code: "invalid_transition", Message: fmt.Sprintf("a dispute cannot go from %s to %s", from, to),
		Fields: []FieldError{{Field: "status", Code: FieldInvalid, Message: "not allowed from " + from}}}
}

// AddProjectUpdate records a dated progress note of a project; a note that
// names a new stage moves the project to it. u's id comes from the client,
// so a resend creates nothing.
func (s FieldService) AddProjectUpdate(ctx context.Context, c Caller, projectID string, u Record) (Record, bool, error) {
	pr, err := s.Get(ctx, c, TypeProject, projectID)
	if err != nil {
		return Record{}, false, err
	}
	u.Type, u.VillageID = TypeProjectUpdate, pr.VillageID
	if u.ProjectUpdate == nil {
		u.ProjectUpdate = &ProjectUpdate{}
	}
	u.ProjectUpdate.ProjectID = pr.ID
	out, dup, err := s.Create(ctx, c, u)
	if err != nil || dup {
		return out, dup, err
	}
	if st := out.ProjectUpdate.Stage; st != "" && st != pr.Project.Stage {
		_, _, err := s.Update(ctx, c, TypeProject, pr.ID, 0, "update:"+out.ID, func(p Record) (Record, error) {
			next := p
			np := *p.Project
			np.Stage = st
			if st == StageCompleted && np.CompletedOn == "" {
				np.CompletedOn = out.ProjectUpdate.Date
			}
			if st != StagePlanned && np.StartedOn == "" {
				np.StartedOn = out.ProjectUpdate.Date
			}
			next.Project = &np
			return next, nil
		})
		if err != nil {
			return out, false, fmt.Errorf("move project to %s: %w", st, err)
		}
	}
	return out, false, nil
}
