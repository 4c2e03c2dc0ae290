// Package recdoc is the stored form of a field record's content, shared by
// the stores: one row type per payload, with the same field names in BSON
// (MongoDB) and JSON (SQLite), and the converters to and from the domain.
package recdoc

import (
	"time"

	"zhucun/domain"
)

// Location is where a record was made.
type Location struct {
	Lat      float64 `bson:"lat" json:"lat"`
	Lng      float64 `bson:"lng" json:"lng"`
	Accuracy float64 `bson:"accuracy,omitempty" json:"accuracy,omitempty"`
}

// Geo is a position without accuracy.
type Geo struct {
	Lat float64 `bson:"lat" json:"lat"`
	Lng float64 `bson:"lng" json:"lng"`
}

// Candidate is a reserve candidate.
type Candidate struct {
	Name      string `bson:"name" json:"name"`
	BirthYear int    `bson:"birthYear,omitempty" json:"birthYear,omitempty"`
	Gender    string `bson:"gender,omitempty" json:"gender,omitempty"`
	Education string `bson:"education,omitempty" json:"education,omitempty"`
	Stage     string `bson:"stage,omitempty" json:"stage,omitempty"`
}

// Report is a report's content.
type Report struct {
	Kind          string     `bson:"kind" json:"kind"`
	OccurredAt    time.Time  `bson:"occurredAt" json:"occurredAt"`
	Location      *Location  `bson:"location,omitempty" json:"location,omitempty"`
	Notes         string     `bson:"notes,omitempty" json:"notes,omitempty"`
	PhotoIDs      []string   `bson:"photoIds,omitempty" json:"photoIds,omitempty"`
	Visitee       string     `bson:"visitee,omitempty" json:"visitee,omitempty"`
	Count         int        `bson:"count,omitempty" json:"count,omitempty"`
	Names         []string   `bson:"names,omitempty" json:"names,omitempty"`
	Concerns      string     `bson:"concerns,omitempty" json:"concerns,omitempty"`
	FollowUp      bool       `bson:"followUp,omitempty" json:"followUp,omitempty"`
	MeetingType   string     `bson:"meetingType,omitempty" json:"meetingType,omitempty"`
	Attendees     int        `bson:"attendees,omitempty" json:"attendees,omitempty"`
	AttendeeNames []string   `bson:"attendeeNames,omitempty" json:"attendeeNames,omitempty"`
	Topics        []string   `bson:"topics,omitempty" json:"topics,omitempty"`
	Decisions     []string   `bson:"decisions,omitempty" json:"decisions,omitempty"`
	LeaderID      string     `bson:"leaderId,omitempty" json:"leaderId,omitempty"`
	Findings      string     `bson:"findings,omitempty" json:"findings,omitempty"`
	UnitID        string     `bson:"unitId,omitempty" json:"unitId,omitempty"`
	People        int        `bson:"people,omitempty" json:"people,omitempty"`
	Candidate     *Candidate `bson:"candidate,omitempty" json:"candidate,omitempty"`
	Text          string     `bson:"text,omitempty" json:"text,omitempty"`
	// Sealed holds the personal fields, encrypted (Codec).
	Sealed string `bson:"sealed,omitempty" json:"sealed,omitempty"`
}

// Dispute is a dispute's content.
type Dispute struct {
	IdentifiedAt       time.Time  `bson:"identifiedAt" json:"identifiedAt"`
	Category           string     `bson:"category" json:"category"`
	Parties            []string   `bson:"parties,omitempty" json:"parties,omitempty"`
	Description        string     `bson:"description" json:"description"`
	Source             string     `bson:"source,omitempty" json:"source,omitempty"`
	Status             string     `bson:"status" json:"status"`
	ResolvedAt         *time.Time `bson:"resolvedAt,omitempty" json:"resolvedAt,omitempty"`
	Resolution         string     `bson:"resolution,omitempty" json:"resolution,omitempty"`
	LossesRecoveredFen int64      `bson:"lossesRecoveredFen,omitempty" json:"lossesRecoveredFen,omitempty"`
	EscalatedTo        string     `bson:"escalatedTo,omitempty" json:"escalatedTo,omitempty"`
	EscalatedAt        *time.Time `bson:"escalatedAt,omitempty" json:"escalatedAt,omitempty"`
	PhotoIDs           []string   `bson:"photoIds,omitempty" json:"photoIds,omitempty"`
	Sealed             string     `bson:"sealed,omitempty" json:"sealed,omitempty"`
}

// Project is a project's content.
type Project struct {
	Name        string   `bson:"name" json:"name"`
	ProjectType string   `bson:"projectType" json:"projectType"`
	BudgetFen   int64    `bson:"budgetFen" json:"budgetFen"`
	Stage       string   `bson:"stage" json:"stage"`
	StartedOn   string   `bson:"startedOn,omitempty" json:"startedOn,omitempty"`
	CompletedOn string   `bson:"completedOn,omitempty" json:"completedOn,omitempty"`
	Description string   `bson:"description,omitempty" json:"description,omitempty"`
	PhotoIDs    []string `bson:"photoIds,omitempty" json:"photoIds,omitempty"`
}

// ProjectUpdate is a project update's content.
type ProjectUpdate struct {
	ProjectID string   `bson:"projectId" json:"projectId"`
	Date      string   `bson:"date" json:"date"`
	Note      string   `bson:"note" json:"note"`
	Stage     string   `bson:"stage,omitempty" json:"stage,omitempty"`
	PhotoIDs  []string `bson:"photoIds,omitempty" json:"photoIds,omitempty"`
}

// Fund is a fund's content.
type Fund struct {
	AmountFen    int64  `bson:"amountFen" json:"amountFen"`
	SourceUnitID string `bson:"sourceUnitId,omitempty" json:"sourceUnitId,omitempty"`
	Source       string `bson:"source,omitempty" json:"source,omitempty"`
	Purpose      string `bson:"purpose" json:"purpose"`
	ProjectID    string `bson:"projectId,omitempty" json:"projectId,omitempty"`
	ReceivedOn   string `bson:"receivedOn" json:"receivedOn"`
}

// Photo is a photo's metadata.
type Photo struct {
	Status         string     `bson:"status" json:"status"`
	DeclaredType   string     `bson:"declaredType,omitempty" json:"declaredType,omitempty"`
	DeclaredSize   int64      `bson:"declaredSize,omitempty" json:"declaredSize,omitempty"`
	DeclaredSHA256 string     `bson:"declaredSha256,omitempty" json:"declaredSha256,omitempty"`
	ContentType    string     `bson:"contentType,omitempty" json:"contentType,omitempty"`
	Size           int64      `bson:"size,omitempty" json:"size,omitempty"`
	SHA256         string     `bson:"sha256,omitempty" json:"sha256,omitempty"`
	BlobKey        string     `bson:"blobKey,omitempty" json:"blobKey,omitempty"`
	ThumbKey       string     `bson:"thumbKey,omitempty" json:"thumbKey,omitempty"`
	Width          int        `bson:"width,omitempty" json:"width,omitempty"`
	Height         int        `bson:"height,omitempty" json:"height,omitempty"`
	TakenAt        *time.Time `bson:"takenAt,omitempty" json:"takenAt,omitempty"`
	GPS            *Geo       `bson:"gps,omitempty" json:"gps,omitempty"`
	CompletedAt    *time.Time `bson:"completedAt,omitempty" json:"completedAt,omitempty"`
}

// Content is a record's content and what the stores copy from it to
// filter by: exactly one payload is set.
type Content struct {
	Report        *Report        `bson:"report,omitempty" json:"report,omitempty"`
	Dispute       *Dispute       `bson:"dispute,omitempty" json:"dispute,omitempty"`
	Project       *Project       `bson:"project,omitempty" json:"project,omitempty"`
	Fund          *Fund          `bson:"fund,omitempty" json:"fund,omitempty"`
	ProjectUpdate *ProjectUpdate `bson:"projectUpdate,omitempty" json:"projectUpdate,omitempty"`
	Photo         *Photo         `bson:"photo,omitempty" json:"photo,omitempty"`
}

// Of returns a record's content, and the values lists filter by: its kind
// (a report's kind, a dispute's status, a project's stage, a photo's
// status) and the project it belongs to (funds and project updates).
func Of(r domain.Record) (c Content, kind, projectID string) {
	if p := r.Report; p != nil {
		rr := Report{Kind: p.Kind, OccurredAt: p.OccurredAt, Notes: p.Notes, PhotoIDs: p.PhotoIDs, Visitee: p.Visitee,
			Count: p.Count, Names: p.Names, Concerns: p.Concerns, FollowUp: p.FollowUp, MeetingType: p.MeetingType,
			Attendees: p.Attendees, AttendeeNames: p.AttendeeNames, Topics: p.Topics, Decisions: p.Decisions,
			LeaderID: p.LeaderID, Findings: p.Findings, UnitID: p.UnitID, People: p.People, Text: p.Text}
		if p.Location != nil {
			rr.Location = &Location{Lat: p.Location.Lat, Lng: p.Location.Lng, Accuracy: p.Location.Accuracy}
		}
		if p.Candidate != nil {
			cd := Candidate(*p.Candidate)
			rr.Candidate = &cd
		}
		c.Report, kind = &rr, p.Kind
	}
	if p := r.Dispute; p != nil {
		d := Dispute{IdentifiedAt: p.IdentifiedAt, Category: p.Category, Parties: p.Parties, Description: p.Description,
			Source: p.Source, Status: p.Status, ResolvedAt: p.ResolvedAt, Resolution: p.Resolution,
			LossesRecoveredFen: p.LossesRecoveredFen, EscalatedTo: p.EscalatedTo, EscalatedAt: p.EscalatedAt, PhotoIDs: p.PhotoIDs}
		c.Dispute, kind = &d, p.Status
	}
	if p := r.Project; p != nil {
		pr := Project(*p)
		c.Project, kind = &pr, p.Stage
	}
	if p := r.Fund; p != nil {
		f := Fund(*p)
		c.Fund, projectID = &f, p.ProjectID
	}
	if p := r.ProjectUpdate; p != nil {
		u := ProjectUpdate(*p)
		c.ProjectUpdate, projectID = &u, p.ProjectID
	}
	if p := r.Photo; p != nil {
		ph := Photo{Status: p.Status, DeclaredType: p.DeclaredType, DeclaredSize: p.DeclaredSize, DeclaredSHA256: p.DeclaredSHA256,
			ContentType: p.ContentType, Size: p.Size, SHA256: p.SHA256, BlobKey: p.BlobKey, ThumbKey: p.ThumbKey,
			Width: p.Width, Height: p.Height, TakenAt: p.TakenAt, CompletedAt: p.CompletedAt}
		if p.GPS != nil {
			ph.GPS = &Geo{Lat: p.GPS.Lat, Lng: p.GPS.Lng}
		}
		c.Photo, kind = &ph, p.Status
	}
	return c, kind, projectID
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// Into sets the record's payload from the content (times in UTC).
func (c Content) Into(r *domain.Record) {
	if p := c.Report; p != nil {
		rp := domain.Report{Kind: p.Kind, OccurredAt: p.OccurredAt.UTC(), Notes: p.Notes, PhotoIDs: p.PhotoIDs, Visitee: p.Visitee,
			Count: p.Count, Names: p.Names, Concerns: p.Concerns, FollowUp: p.FollowUp, MeetingType: p.MeetingType,
			Attendees: p.Attendees, AttendeeNames: p.AttendeeNames, Topics: p.Topics, Decisions: p.Decisions,
			LeaderID: p.LeaderID, Findings: p.Findings, UnitID: p.UnitID, People: p.People, Text: p.Text}
		if p.Location != nil {
			rp.Location = &domain.Location{Lat: p.Location.Lat, Lng: p.Location.Lng, Accuracy: p.Location.Accuracy}
		}
		if p.Candidate != nil {
			cd := domain.Candidate(*p.Candidate)
			rp.Candidate = &cd
		}
		r.Report = &rp
	}
	if p := c.Dispute; p != nil {
		d := domain.Dispute{IdentifiedAt: p.IdentifiedAt, Category: p.Category, Parties: p.Parties, Description: p.Description,
			Source: p.Source, Status: p.Status, ResolvedAt: p.ResolvedAt, Resolution: p.Resolution,
			LossesRecoveredFen: p.LossesRecoveredFen, EscalatedTo: p.EscalatedTo, EscalatedAt: p.EscalatedAt, PhotoIDs: p.PhotoIDs}
		d.IdentifiedAt, d.ResolvedAt, d.EscalatedAt = d.IdentifiedAt.UTC(), utc(d.ResolvedAt), utc(d.EscalatedAt)
		r.Dispute = &d
	}
	if p := c.Project; p != nil {
		pr := domain.Project(*p)
		r.Project = &pr
	}
	if p := c.Fund; p != nil {
		f := domain.Fund(*p)
		r.Fund = &f
	}
	if p := c.ProjectUpdate; p != nil {
		u := domain.ProjectUpdate(*p)
		r.ProjectUpdate = &u
	}
	if p := c.Photo; p != nil {
		ph := domain.Photo{Status: p.Status, DeclaredType: p.DeclaredType, DeclaredSize: p.DeclaredSize, DeclaredSHA256: p.DeclaredSHA256,
			ContentType: p.ContentType, Size: p.Size, SHA256: p.SHA256, BlobKey: p.BlobKey, ThumbKey: p.ThumbKey,
			Width: p.Width, Height: p.Height, TakenAt: utc(p.TakenAt), CompletedAt: utc(p.CompletedAt)}
		if p.GPS != nil {
			ph.GPS = &domain.GeoPoint{Lat: p.GPS.Lat, Lng: p.GPS.Lng}
		}
		r.Photo = &ph
	}
}

// ReviewEvent is one step of a record's review.
type ReviewEvent struct {
	State   string    `bson:"state" json:"state"`
	By      string    `bson:"by" json:"by"`
	ByName  string    `bson:"byName,omitempty" json:"byName,omitempty"`
	At      time.Time `bson:"at" json:"at"`
	Comment string    `bson:"comment,omitempty" json:"comment,omitempty"`
}

// ReviewOf is a record's review history as stored.
func ReviewOf(h []domain.ReviewEvent) []ReviewEvent {
	if len(h) == 0 {
		return nil
	}
	out := make([]ReviewEvent, len(h))
	for i, e := range h {
		out[i] = ReviewEvent(e)
	}
	return out
}

// ReviewInto is a stored review history in the domain (times in UTC).
func ReviewInto(h []ReviewEvent) []domain.ReviewEvent {
	if len(h) == 0 {
		return nil
	}
	out := make([]domain.ReviewEvent, len(h))
	for i, e := range h {
		out[i] = domain.ReviewEvent(e)
		out[i].At = e.At.UTC()
	}
	return out
}
