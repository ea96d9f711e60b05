//! Everything a run shares across cases: the configuration's rates, the district, the
//! catalog and the working-day table.

use jiancha_calendar::Calendar;

use crate::catalog::Catalog;
use crate::days::{Day, Days};
use crate::district::District;
use crate::rates::Rates;
use crate::rng::{Purpose, Rng};
use crate::{SimConfig, SimError};

/// The shared, read-only state of a run.
#[derive(Debug)]
pub(crate) struct World {
    pub(crate) seed: u64,
    pub(crate) rates: Rates,
    pub(crate) district: District,
    pub(crate) catalog: Catalog,
    pub(crate) days: Days,
    /// The first day arrivals may come.
    pub(crate) start: Day,
    /// The day the catalog is defined: the working day before the start.
    pub(crate) catalog_day: Day,
}

impl World {
    /// Checks the configuration and builds the world it describes.
    pub(crate) fn new(config: &SimConfig) -> Result<World, SimError> {
        config.validate()?;
        let days = Days::new(&Calendar::national(), config.start)?;
        let start = days
            .day_of(config.start)
            .ok_or(SimError::OutOfCalendar { date: config.start })?;
        let catalog_day = days
            .workday_before(start)
            .ok_or(SimError::OutOfCalendar { date: config.start })?;
        let district = District::new(&config.shape, config.seed);
        let mut rng = Rng::new(config.seed, Purpose::World, 1);
        let catalog = Catalog::new(&mut rng, &district, config.shape.items);
        Ok(World {
            seed: config.seed,
            rates: config.rates.clone(),
            district,
            catalog,
            days,
            start,
            catalog_day,
        })
    }
}
