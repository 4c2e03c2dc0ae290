package api

import (
	"time"

	"zhucun/domain"
)

type locationJSON struct {
	Lat      float64 `json:"lat"`
	Lng      float64 `json:"lng"`
	Accuracy float64 `json:"accuracy,omitempty"`
}

type candidateJSON struct {
	Name      string `json:"name"`
	BirthYear int    `json:"birthYear,omitempty"`
	Gender    string `json:"gender,omitempty"`
	Education string `json:"education,omitempty"`
	Stage     string `json:"stage,omitempty"`
}

// reportBody is a report's JSON body.
type reportBody struct {
	bodyEnvelope
	Kind          string         `json:"kind"`
	OccurredAt    *time.Time     `json:"occurredAt,omitempty"`
	Location      *locationJSON  `json:"location,omitempty"`
	Notes         string         `json:"notes,omitempty"`
	PhotoIDs      []string       `json:"photoIds,omitempty"`
	Visitee       string         `json:"visitee,omitempty"`
	Count         int            `json:"count,omitempty"`
	Names         []string       `json:"names,omitempty"`
	Concerns      string         `json:"concerns,omitempty"`
	FollowUp      bool           `json:"followUp,omitempty"`
	MeetingType   string         `json:"meetingType,omitempty"`
	Attendees     int            `json:"attendees,omitempty"`
	AttendeeNames []string       `json:"attendeeNames,omitempty"`
	Topics        []string       `json:"topics,omitempty"`
	Decisions     []string       `json:"decisions,omitempty"`
	LeaderID      string         `json:"leaderId,omitempty"`
	Findings      string         `json:"findings,omitempty"`
	UnitID        string         `json:"unitId,omitempty"`
	People        int            `json:"people,omitempty"`
	Candidate     *candidateJSON `json:"candidate,omitempty"`
	Text          string         `json:"text,omitempty"`
}

func (b *reportBody) fill(r *domain.Record) {
	p := &domain.Report{Kind: b.Kind, Notes: b.Notes, PhotoIDs: b.PhotoIDs, Visitee: b.Visitee, Count: b.Count,
		Names: b.Names, Concerns: b.Concerns, FollowUp: b.FollowUp, MeetingType: b.MeetingType, Attendees: b.Attendees,
		AttendeeNames: b.AttendeeNames, Topics: b.Topics, Decisions: b.Decisions, LeaderID: b.LeaderID,
		Findings: b.Findings, UnitID: b.UnitID, People: b.People, Text: b.Text}
	if b.OccurredAt != nil {
		p.OccurredAt = b.OccurredAt.UTC()
	}
	if b.Location != nil {
		p.Location = &domain.Location{Lat: b.Location.Lat, Lng: b.Location.Lng, Accuracy: b.Location.Accuracy}
	}
	if b.Candidate != nil {
		cd := domain.Candidate(*b.Candidate)
		p.Candidate = &cd
	}
	r.Report = p
}

func reportBodyOf(r *domain.Record) recordBody {
	b := &reportBody{}
	if r == nil || r.Report == nil {
		return b
	}
	p := r.Report
	v := r.Version
	*b = reportBody{bodyEnvelope: bodyEnvelope{ID: r.ID, VillageID: r.VillageID, Version: &v},
		Kind: p.Kind, Notes: p.Notes, PhotoIDs: p.PhotoIDs, Visitee: p.Visitee, Count: p.Count, Names: p.Names,
		Concerns: p.Concerns, FollowUp: p.FollowUp, MeetingType: p.MeetingType, Attendees: p.Attendees,
		AttendeeNames: p.AttendeeNames, Topics: p.Topics, Decisions: p.Decisions, LeaderID: p.LeaderID,
		Findings: p.Findings, UnitID: p.UnitID, People: p.People, Text: p.Text}
	t := p.OccurredAt
	b.OccurredAt = &t
	if p.Location != nil {
		b.Location = &locationJSON{Lat: p.Location.Lat, Lng: p.Location.Lng, Accuracy: p.Location.Accuracy}
	}
	if p.Candidate != nil {
		cd := candidateJSON(*p.Candidate)
		b.Candidate = &cd
	}
	return b
}

func reportCodec() recordCodec { return recordCodec{typ: domain.TypeReport, body: reportBodyOf} }
