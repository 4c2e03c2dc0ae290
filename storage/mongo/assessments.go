package mongo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"zhucun/domain"
)

var (
	_ domain.AssessmentStore  = (*Store)(nil)
	_ domain.OpenDisputeIndex = (*Store)(nil)
)

const colAssessments = "assessments"

type scoreRow struct {
	Indicator string  `bson:"indicator"`
	Score     float64 `bson:"score"`
	Note      string  `bson:"note,omitempty"`
}

type assessmentRow struct {
	ID         string     `bson:"_id"` // village|period
	VillageID  string     `bson:"villageId"`
	TownID     string     `bson:"townId"`
	Period     string     `bson:"period"`
	Scores     []scoreRow `bson:"scores"`
	Assessors  []string   `bson:"assessors"`
	AssessedOn string     `bson:"assessedOn"`
	Notes      string     `bson:"notes,omitempty"`
	Total      float64    `bson:"total"`
	Light      string     `bson:"light"`
	By         string     `bson:"by"`
	CreatedAt  time.Time  `bson:"createdAt"`
	UpdatedAt  time.Time  `bson:"updatedAt"`
	Version    int        `bson:"version"`
}

func toAssessmentRow(a domain.Assessment) assessmentRow {
	row := assessmentRow{ID: a.VillageID + "|" + a.Period, VillageID: a.VillageID, TownID: a.TownID, Period: a.Period,
		Assessors: a.Assessors, AssessedOn: a.AssessedOn, Notes: a.Notes, Total: a.Total, Light: a.Light, By: a.By,
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt, Version: a.Version}
	for _, s := range a.Scores {
		row.Scores = append(row.Scores, scoreRow(s))
	}
	return row
}

func toAssessment(r assessmentRow) domain.Assessment {
	a := domain.Assessment{VillageID: r.VillageID, TownID: r.TownID, Period: r.Period, Assessors: r.Assessors,
		AssessedOn: r.AssessedOn, Notes: r.Notes, Total: r.Total, Light: r.Light, By: r.By,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), Version: r.Version}
	for _, s := range r.Scores {
		a.Scores = append(a.Scores, domain.IndicatorScore(s))
	}
	return a
}

// PutAssessment creates (version 1) or replaces the stored version-1.
func (s *Store) PutAssessment(ctx context.Context, a domain.Assessment) error {
	defer s.cache.assessments.invalidate()
	row := toAssessmentRow(a)
	var err error
	if a.Version == 1 {
		err = insert(ctx, s, colAssessments, row)
		if errors.Is(err, domain.ErrDuplicate) {
			err = domain.ErrStale
		}
	} else {
		err = replaceVersion(ctx, s, colAssessments, row.ID, a.Version, row)
	}
	if err != nil {
		return fmt.Errorf("put assessment: %w", err)
	}
	return nil
}

// GetAssessment returns a village's assessment of a half-year, from the cache.
func (s *Store) GetAssessment(ctx context.Context, villageID, period string) (domain.Assessment, error) {
	rows, err := s.cache.assessments.get(ctx, s)
	if err != nil {
		return domain.Assessment{}, fmt.Errorf("get assessment: %w", err)
	}
	for _, r := range rows {
		if r.ID == villageID+"|"+period {
			return toAssessment(r), nil
		}
	}
	return domain.Assessment{}, fmt.Errorf("get assessment: %w", domain.ErrNotFound)
}

// Assessments lists every assessment, from the cache.
func (s *Store) Assessments(ctx context.Context) ([]domain.Assessment, error) {
	rows, err := s.cache.assessments.get(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("assessments: %w", err)
	}
	return convAll(rows, toAssessment), nil
}

// disputeIndex holds each village's open disputes (identified or
// mediating) and when each was identified: loaded on first use, then kept
// by this process's dispute writes, as the photo index is.
type disputeIndex struct {
	mu       sync.Mutex
	villages map[string]*villageDisputes
}

type villageDisputes struct {
	mu     sync.Mutex
	loaded bool
	open   map[string]time.Time
}

func (x *disputeIndex) village(id string) *villageDisputes {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.villages == nil {
		x.villages = map[string]*villageDisputes{}
	}
	v := x.villages[id]
	if v == nil {
		v = &villageDisputes{}
		x.villages[id] = v
	}
	return v
}

func openDispute(r domain.Record) bool {
	return !r.Deleted && r.Dispute != nil && (r.Dispute.Status == domain.DisputeIdentified || r.Dispute.Status == domain.DisputeMediating)
}

// noteDispute applies a dispute write to a loaded village index.
func (s *Store) noteDispute(r domain.Record) {
	if r.Type != domain.TypeDispute {
		return
	}
	v := s.disputes.village(r.VillageID)
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.loaded {
		return
	}
	if openDispute(r) {
		v.open[r.ID] = r.Dispute.IdentifiedAt
	} else {
		delete(v.open, r.ID)
	}
}

// OpenDisputes returns when each open dispute of a village was identified.
func (s *Store) OpenDisputes(ctx context.Context, villageID string) ([]time.Time, error) {
	v := s.disputes.village(villageID)
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.loaded {
		open := map[string]time.Time{}
		for _, status := range []string{domain.DisputeIdentified, domain.DisputeMediating} {
			var after *domain.RecordCursor
			for {
				rs, err := s.ListRecords(ctx, domain.RecordFilter{Type: domain.TypeDispute, VillageIDs: []string{villageID}, Kind: status}, after, 1000)
				if err != nil {
					return nil, fmt.Errorf("open disputes: %w", err)
				}
				for _, r := range rs {
					if openDispute(r) {
						open[r.ID] = r.Dispute.IdentifiedAt
					}
				}
				if len(rs) < 1000 {
					break
				}
				after = &domain.RecordCursor{At: rs[len(rs)-1].At, ID: rs[len(rs)-1].ID}
			}
		}
		v.open, v.loaded = open, true
	}
	out := make([]time.Time, 0, len(v.open))
	for _, at := range v.open {
		out = append(out, at)
	}
	return out, nil
}
