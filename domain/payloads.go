package domain

import "time"

// Location is where a record was made, from the phone's GPS.
type Location struct {
	Lat      float64
	Lng      float64
	Accuracy float64 // metres
}

// Report kinds.
const (
	KindVisit            = "visit"             // 走访
	KindMeeting          = "meeting"           // 会议
	KindLeaderResearch   = "leader_research"   // 包靠领导实地调研
	KindUnitResearch     = "unit_research"     // 单位调研
	KindReserveCandidate = "reserve_candidate" // 后备人选
	KindCheckin          = "checkin"           // 在岗打卡
	KindWorkLog          = "work_log"          // 民情日记
)

// ReportKinds lists the report kinds.
var ReportKinds = []string{KindVisit, KindMeeting, KindLeaderResearch, KindUnitResearch, KindReserveCandidate, KindCheckin, KindWorkLog}

// Report is a cadre's report of field work. Only the fields of its kind are set.
type Report struct {
	Kind       string
	OccurredAt time.Time
	Location   *Location
	Notes      string
	PhotoIDs   []string

	// visit
	Visitee  string // party_member or household
	Count    int    // people or households visited
	Names    []string
	Concerns string
	FollowUp bool
	// meeting
	MeetingType   string // two_committees, party_members, villager_representatives, other
	Attendees     int
	AttendeeNames []string
	Topics        []string
	Decisions     []string
	// leader_research
	LeaderID string
	Findings string
	// unit_research
	UnitID string
	People int // 人次
	// reserve_candidate
	Candidate *Candidate
	// work_log
	Text string
}

// Candidate is a reserve candidate for the village's leadership (后备人选).
type Candidate struct {
	Name      string
	BirthYear int
	Gender    string // male, female
	Education string
	Stage     string // identified, training, observing, appointed
}

// Dispute statuses.
const (
	DisputeIdentified = "identified"
	DisputeMediating  = "mediating"
	DisputeResolved   = "resolved"
	DisputeEscalated  = "escalated"
)

// DisputeCategories are the kinds of conflict.
var DisputeCategories = []string{"land", "neighbour", "family", "economic", "petition", "other"}

// Dispute is a conflict the team identified and follows to its end (矛盾纠纷).
type Dispute struct {
	IdentifiedAt       time.Time
	Category           string
	Parties            []string
	Description        string
	Source             string
	Status             string
	ResolvedAt         *time.Time
	Resolution         string
	LossesRecoveredFen int64
	EscalatedTo        string
	EscalatedAt        *time.Time
	PhotoIDs           []string
}

// ProjectTypes are the kinds of project (工程项目).
var ProjectTypes = []string{"greenhouse", "planting", "breeding", "road", "water_sewage", "building_repair", "ecommerce", "other"}

// Project stages.
const (
	StagePlanned    = "planned"
	StageInProgress = "in_progress"
	StageCompleted  = "completed"
)

// Project is a project the team pushes in the village.
type Project struct {
	Name        string
	ProjectType string
	BudgetFen   int64
	Stage       string
	StartedOn   string // YYYY-MM-DD
	CompletedOn string
	Description string
	PhotoIDs    []string
}

// Fund is aid money received for the village (帮扶资金).
type Fund struct {
	AmountFen    int64
	SourceUnitID string
	Source       string // the giver when it is not a unit
	Purpose      string
	ProjectID    string
	ReceivedOn   string // YYYY-MM-DD
}

// ProjectUpdate is a dated progress note of a project, with photos.
type ProjectUpdate struct {
	ProjectID string
	Date      string // YYYY-MM-DD
	Note      string
	Stage     string // the project's stage from this date, when it changed
	PhotoIDs  []string
}
