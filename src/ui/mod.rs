pub mod panes;
