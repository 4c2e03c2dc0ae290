package recdoc

import (
	"encoding/json"
	"fmt"

	"zhucun/domain"
)

// Codec converts records to their stored content and back, encrypting
// the personal fields at rest when it has a sealer (PIPL art. 51): the
// names of the villagers and party members visited, of a meeting's
// attendees, of a dispute's parties, and a reserve candidate's name,
// birth year, gender and education. What lists filter and count by stays
// plain. Content stored before a sealer was set is read as it is; the
// stores seal it in place the first time they open with a sealer.
type Codec struct {
	Sealer domain.Sealer
}

// personal is what a record's content says of people, sealed as one value.
type personal struct {
	Names         []string   `json:"names,omitempty"`
	AttendeeNames []string   `json:"attendeeNames,omitempty"`
	Candidate     *Candidate `json:"candidate,omitempty"`
	Parties       []string   `json:"parties,omitempty"`
}

// Of is the stored content of a record, its personal fields sealed.
func (k Codec) Of(r domain.Record) (c Content, kind, projectID string, err error) {
	c, kind, projectID = Of(r)
	if k.Sealer == nil {
		return c, kind, projectID, nil
	}
	var p personal
	if rp := c.Report; rp != nil {
		p.Names, p.AttendeeNames, p.Candidate = rp.Names, rp.AttendeeNames, rp.Candidate
		rp.Names, rp.AttendeeNames = nil, nil
		if rp.Candidate != nil {
			rp.Candidate = &Candidate{Stage: rp.Candidate.Stage}
		}
		if rp.Sealed, err = k.seal(p); err != nil {
			return Content{}, "", "", err
		}
	}
	if d := c.Dispute; d != nil {
		p.Parties, d.Parties = d.Parties, nil
		if d.Sealed, err = k.seal(p); err != nil {
			return Content{}, "", "", err
		}
	}
	return c, kind, projectID, nil
}

func (k Codec) seal(p personal) (string, error) {
	if p.Names == nil && p.AttendeeNames == nil && p.Candidate == nil && p.Parties == nil {
		return "", nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("seal personal fields: %w", err)
	}
	s, err := k.Sealer.Seal(b)
	if err != nil {
		return "", fmt.Errorf("seal personal fields: %w", err)
	}
	return s, nil
}

// Into sets the record's payload from stored content, opening what was sealed.
func (k Codec) Into(c Content, r *domain.Record) error {
	var p personal
	sealed := ""
	switch {
	case c.Report != nil:
		sealed = c.Report.Sealed
	case c.Dispute != nil:
		sealed = c.Dispute.Sealed
	}
	if sealed != "" {
		if k.Sealer == nil {
			return fmt.Errorf("record %s: its personal fields are sealed and no data key is set", r.ID)
		}
		b, err := k.Sealer.Open(sealed)
		if err != nil {
			return fmt.Errorf("record %s: open personal fields: %w", r.ID, err)
		}
		if err := json.Unmarshal(b, &p); err != nil {
			return fmt.Errorf("record %s: open personal fields: %w", r.ID, err)
		}
	}
	c.Into(r)
	if sealed == "" {
		return nil
	}
	if rp := r.Report; rp != nil {
		rp.Names, rp.AttendeeNames = p.Names, p.AttendeeNames
		if p.Candidate != nil {
			cd := domain.Candidate(*p.Candidate)
			if rp.Candidate != nil {
				cd.Stage = rp.Candidate.Stage
			}
			rp.Candidate = &cd
		}
	}
	if d := r.Dispute; d != nil {
		d.Parties = p.Parties
	}
	return nil
}
