//! The I/O-free domain core of zs-scheduler: states, events, the two machines,
//! booking rules, the business-hours calendar and the clock.

pub mod availability;
pub mod booking;
pub mod calendar;
pub mod clock;
pub mod decide;
pub mod diagram;
pub mod error;
pub mod event;
pub mod ids;
pub mod machine;
pub mod notice;
pub mod oracle;
pub mod period;
pub mod policy;
pub mod rules;
pub mod scope;
pub mod series;
pub mod sim;
pub mod space;
pub mod state;
pub mod status;
pub mod timer;
pub mod utilisation;
pub mod walk_up;

pub use booking::{Booking, BookingStatus};
pub use clock::{Clock, ManualClock, SystemClock};
pub use decide::{Command, Outcome, SpaceFacts, decide, decision_instant, initial_status};
pub use error::{DomainError, ErrorKind};
pub use event::EventKind;
pub use ids::{BookingId, InvalidId, SeriesId, SpaceId};
pub use notice::{BookingNotice, Notice};
pub use period::Period;
pub use policy::{Limit, Policies};
pub use rules::NewBooking;
pub use scope::Scope;
pub use space::{Space, SpaceSettings};
pub use state::{RoomState, SpaceState};
pub use status::{SpaceStatus, Transition};
pub use timer::{Timer, TimerChange};
pub use walk_up::{WalkUp, book_now};
