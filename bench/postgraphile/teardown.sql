-- Drops what setup.sql created.
DROP FUNCTION IF EXISTS public.regions_member_municipalities(public.regions);
DROP FUNCTION IF EXISTS public.organisations_partner_projects(public.organisations);
